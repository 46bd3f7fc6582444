#!/usr/bin/env bash
# GPU check: build with the CUDA libtorch package, run the kernels tests on the GPU (reference and pipelines both on
# CUDA, GC stress included), run `bench kernels --gc-stress` on the GPU (its "auto" device is CUDA there) and the demo
# with --verify, print one summary line. About 10 minutes on one GPU, most of it the build. Run it on a GPU server from the
# repository root; it cannot run on the project's CPU machines (no GPU, and the CUDA package is not on their package
# source). See build/LibTorch.md.
set -uo pipefail
package="${LIBTORCH_PACKAGE:-libtorch-cuda-12.8-linux-x64}"
version="${LIBTORCH_VERSION:-2.10.0}"
steps="${DEMO_STEPS:-50}"
log="${GPU_CHECK_LOG:-gpu-check.log}"
props=(-p:LibTorchPackage="$package" -p:LibTorchVersion="$version")

gpu="$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)"
if [[ -z "$gpu" ]]; then
  echo "GPU-CHECK result=no-gpu: nvidia-smi finds no GPU; run this on a GPU server" >&2
  exit 2
fi
: > "$log"
echo "GPU: $gpu; libtorch: $package $version; log: $log"

build=fail; kernels=fail; stress=fail; demo=fail
if dotnet build tests/Kernels.Tests -c Release -nologo "${props[@]}" >>"$log" 2>&1 \
  && dotnet build Silo -c Release -nologo "${props[@]}" >>"$log" 2>&1 \
  && dotnet build bench/Bench -c Release -nologo "${props[@]}" >>"$log" 2>&1; then
  build=pass
  CLUSTER_TEST_DEVICE=cuda dotnet test tests/Kernels.Tests -c Release --no-build -nologo >>"$log" 2>&1 && kernels=pass
  # Partition equivalence and data parallelism bit-identical on CUDA under forced collections (RESULT … gc_stress_errors=0 identical=true).
  dotnet run -c Release --no-build --project bench/Bench -- kernels --gc-stress --rounds 1 --steps 2 --warmup 1 >>"$log" 2>&1 \
    && grep -E '^RESULT .*gc_stress_errors=0 identical=true' "$log" >/dev/null && stress=pass
  dotnet run -c Release --no-build --project Silo -- demo --steps "$steps" --verify --data-root "$(mktemp -d)" >>"$log" 2>&1 && demo=pass
fi
passed="$(grep -oE 'Passed: +[0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)"
failed="$(grep -oE 'Failed: +[0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)"
echo "GPU-CHECK build=$build kernels_tests=$kernels (passed=$passed failed=$failed) kernels_gc_stress=$stress demo_verify=$demo steps=$steps gpu=\"$gpu\""
[[ "$build$kernels$stress$demo" == passpasspasspass ]]
