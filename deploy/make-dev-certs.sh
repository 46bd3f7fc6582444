#!/usr/bin/env bash
# Makes a development PKI for mutual TLS (docs/deploy.md §4, docs/security.md): a CA, one certificate the silos
# present (tls.crt/tls.key, also usable by the console) and one per operator name given, as PEM files in DIR.
# For a test fleet or a laptop only: a production fleet issues certificates from its own CA with its own lifetimes.
#   deploy/make-dev-certs.sh DIR [operator-name ...]
set -euo pipefail
dir=${1:?usage: deploy/make-dev-certs.sh DIR [operator-name ...]}
shift
command -v openssl >/dev/null || { echo "openssl is needed (Debian: apt-get install openssl)" >&2; exit 2; }
mkdir -p "$dir"
umask 077
days=${CERT_DAYS:-90}

if [ ! -f "$dir/ca.key" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
        -subj "/CN=Cluster development CA" -keyout "$dir/ca.key" -out "$dir/ca.crt" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

issue() { # name, file stem
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
        -keyout "$dir/$2.key" -out "$dir/$2.csr" 2>/dev/null
    openssl x509 -req -in "$dir/$2.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days "$days" \
        -extfile <(printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n') \
        -out "$dir/$2.crt" 2>/dev/null
    rm -f "$dir/$2.csr"
    echo "  $dir/$2.crt + $dir/$2.key  (CN=$1)"
}

echo "CA: $dir/ca.crt (its key $dir/ca.key stays with whoever issues certificates)"
issue "cluster-silo" tls
for operator in "$@"; do issue "$operator" "operator-$operator"; done
echo "Silo settings: Tls:Enabled=true Tls:CertificatePath=$dir/tls.crt Tls:KeyPath=$dir/tls.key Tls:CertificateAuthorityPath=$dir/ca.crt"
