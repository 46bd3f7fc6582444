#!/usr/bin/env bash
# Builds the solution and runs every test assembly, one after another (libtorch's OpenMP threads make parallel test
# hosts on a 2-core machine slower than serial ones). Ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"

configuration=${CONFIGURATION:-Release}
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

if ! dotnet build Cluster.sln -c "$configuration" -nologo -clp:ErrorsOnly; then
    echo "build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

status=0
for project in tests/*/*.csproj; do
    name=$(basename "$project" .csproj)
    echo "=== $name"
    # A hung test host is dumped and killed rather than blocking the run.
    dotnet test "$project" -c "$configuration" --no-build -nologo --blame-hang-timeout 10m 2>&1 | tee "$results/$name.log"
    rc=${PIPESTATUS[0]}
    if [ "$rc" -ne 0 ]; then status=1; fi
    # A crashed test host prints no summary: count it as a failure so it cannot pass silently.
    if [ "$rc" -ne 0 ] && ! grep -Eq 'Failed: +[1-9]' "$results/$name.log"; then
        echo "crash: $name exited with $rc without a test summary" >> "$results/crashes"
    fi
done

passed=$(cat "$results"/*.log | grep -Eo 'Passed: +[0-9]+' | awk '{s += $2} END {print s + 0}')
failed=$(cat "$results"/*.log | grep -Eo 'Failed: +[0-9]+' | awk '{s += $2} END {print s + 0}')
if [ -f "$results/crashes" ]; then
    cat "$results/crashes"
    failed=$((failed + $(wc -l < "$results/crashes")))
fi
echo "$passed passed, $failed failed"
exit $status
