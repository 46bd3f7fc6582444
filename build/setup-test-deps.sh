#!/usr/bin/env bash
# Installs what the tests start besides .NET: the Azurite (Azure Storage) and s3rver (S3) emulators from npm into
# <repo>/.tmp/<package> (git ignores it), and redis-server from the distribution. Idempotent and offline-friendly:
# whatever is already installed is left alone and nothing is downloaded for it. Test fixtures use the same folders
# and call this script for a missing package, so a single test class still runs on its own.
#
# Usage: build/setup-test-deps.sh [azurite|s3rver|redis ...]     (no argument: all of them)
# Exit code: 0 all present, 1 something could not be installed (each failure says what to do).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.tmp"

# name, version, and the file that proves a complete install (relative to node_modules/<name>)
declare -A npm_version=([azurite]=3.37.0 [s3rver]=3.7.1)
declare -A npm_entry=([azurite]=dist/src/azurite.js [s3rver]=bin/s3rver.js)

failed=0
fail() { echo "setup-test-deps: $*" >&2; failed=1; }

install_npm() {
    local name=$1 version=${npm_version[$1]} entry=${npm_entry[$1]}
    local target="$cache/$name"
    local installed="$target/node_modules/$name/package.json"
    if [ -f "$target/node_modules/$name/$entry" ] && grep -q "\"version\": \"$version\"" "$installed" 2>/dev/null; then
        echo "setup-test-deps: $name@$version already installed in $target"
        return 0
    fi
    if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
        fail "$name needs Node.js (18 or newer) and npm, which are not on PATH. Install them (Debian/Ubuntu: sudo apt-get install nodejs npm) and run again."
        return 1
    fi
    mkdir -p "$target"
    # One installer at a time per package (test processes may start side by side); install into a staging folder
    # and move it into place only when complete, so an interrupted install never looks installed.
    exec {lock}>"$target/.install.lock"
    flock "$lock"
    if [ -f "$target/node_modules/$name/$entry" ] && grep -q "\"version\": \"$version\"" "$installed" 2>/dev/null; then
        exec {lock}>&-
        return 0
    fi
    local staging
    staging=$(mktemp -d "$target/.staging-XXXXXX")
    local started=$SECONDS
    if npm install "$name@$version" --prefix "$staging" --no-save --no-audit --no-fund --loglevel=error >"$staging.log" 2>&1 \
        && [ -f "$staging/node_modules/$name/$entry" ]; then
        rm -rf "$target/node_modules"
        mv "$staging/node_modules" "$target/node_modules"
        echo "setup-test-deps: installed $name@$version into $target in $((SECONDS - started)) s"
    else
        fail "npm install $name@$version failed (offline, or the registry does not serve it). Its output:"
        tail -20 "$staging.log" >&2
        echo "setup-test-deps: when this machine has no registry access, copy $target from a machine that ran this script." >&2
    fi
    rm -rf "$staging" "$staging.log"
    exec {lock}>&-
}

install_redis() {
    if command -v redis-server >/dev/null; then
        echo "setup-test-deps: redis-server already installed ($(command -v redis-server))"
        return 0
    fi
    if command -v apt-get >/dev/null && [ "$(id -u)" -eq 0 ]; then
        if apt-get install -y --no-install-recommends redis-server >/dev/null 2>&1 \
            || { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends redis-server >/dev/null 2>&1; }; then
            echo "setup-test-deps: installed redis-server with apt-get"
            return 0
        fi
        fail "apt-get install redis-server failed; install it by hand and run again."
        return 1
    fi
    fail "redis-server is not on PATH. Install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) and run again."
}

packages=("$@")
[ ${#packages[@]} -eq 0 ] && packages=(azurite s3rver redis)
for package in "${packages[@]}"; do
    case "$package" in
        azurite|s3rver) install_npm "$package" ;;
        redis) install_redis ;;
        *) fail "unknown package '$package': use azurite, s3rver or redis." ;;
    esac
done
exit $failed
