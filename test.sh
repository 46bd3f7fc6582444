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

# Emulators and servers the tests start (Azurite, s3rver, redis-server): installed once, left alone when present.
# A missing one is reported here and fails only the tests that need it.
if ! build/setup-test-deps.sh; then
    echo "some test dependencies could not be installed (see above): the tests that need them will fail"
fi

status=0
for project in tests/*/*.csproj; do
    name=$(basename "$project" .csproj)
    # A test host that hangs (seen rarely in the multi-silo failure tests; see the issue notes) is dumped and killed
    # after 4 idle minutes and the assembly is run once more. Real test failures are never retried.
    for attempt in 1 2; do
        echo "=== $name (attempt $attempt)"
        dotnet test "$project" -c "$configuration" --no-build -nologo --blame-hang-timeout 4m --blame-hang-dump-type none 2>&1 | tee "$results/$name.log"
        rc=${PIPESTATUS[0]}
        if [ "$rc" -eq 0 ] || grep -Eq 'Failed: +[1-9]' "$results/$name.log"; then break; fi
        echo "$name: the test host crashed or hung (exit $rc) without a failing test"
        echo "$name: attempt $attempt crashed or hung (exit $rc) without a failing test" >> "$results/retries"
    done
    if [ "$rc" -ne 0 ]; then status=1; fi
    # A crashed test host prints no failing test: count it as a failure so it cannot pass silently.
    if [ "$rc" -ne 0 ] && ! grep -Eq 'Failed: +[1-9]' "$results/$name.log"; then
        echo "crash: $name exited with $rc without a failing test" >> "$results/crashes"
    fi
done

passed=$(cat "$results"/*.log | grep -Eo 'Passed: +[0-9]+' | awk '{s += $2} END {print s + 0}')
failed=$(cat "$results"/*.log | grep -Eo 'Failed: +[0-9]+' | awk '{s += $2} END {print s + 0}')
if [ -f "$results/crashes" ]; then
    cat "$results/crashes"
    failed=$((failed + $(wc -l < "$results/crashes")))
fi
# A host that hung or crashed and then passed on its second attempt is a finding, not a silent pass: it is named
# above the summary, and the summary line itself starts with "retried:" (the one word the summary format allows).
prefix=""
if [ -f "$results/retries" ]; then
    cat "$results/retries"
    prefix="retried: "
fi
echo "$prefix$passed passed, $failed failed"
exit $status
