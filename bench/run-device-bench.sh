#!/usr/bin/env bash
# Device benchmarks of DESIGN.md section 7, in one run on this machine:
#   1. libpmem's real pmem_memcpy_persist of 64 B (bench/native/pmem_persist_bench.c, on a
#      /dev/shm file with PMEM_IS_PMEM_FORCE=1), measured before and after the .NET suites;
#   2. the BenchmarkDotNet suites Persist64Benchmarks and PersistedCopyBenchmarks (Release,
#      in process, crash tracking on), with a short job suited to a noisy 2-core machine;
#   3. one table: mean ns per case, ratio to the Span.CopyTo baseline of the same size, the
#      64-B persist against libpmem, and each target met or not met.
# Installs gcc and libpmem-dev with apt-get when missing.
#
# Usage: bench/run-device-bench.sh [--out DIR] [-- BENCHMARKDOTNET-ARGS...]
#   --out DIR   where results go (default: a new /tmp/daxstack-bench.XXXXXX)
#   args after --  replace the default job options
#                  (--launchCount 1 --warmupCount 3 --iterationCount 15)
# Environment: DAXSTACK_BENCH_ARTIFACTS  dotnet --artifacts-path (default: OUT/build)
#              DAXSTACK_PMEM_ITERATIONS   libpmem calls per timed pass (default 2000000)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
out=""
job_args=(--launchCount 1 --warmupCount 3 --iterationCount 15)

while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=${2:?--out needs a directory}; shift 2 ;;
        --) shift; job_args=("$@"); break ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "run-device-bench: unknown argument '$1' (see --help)" >&2; exit 64 ;;
    esac
done
[ -n "$out" ] || out=$(mktemp -d /tmp/daxstack-bench.XXXXXX)
mkdir -p "$out"
artifacts=${DAXSTACK_BENCH_ARTIFACTS:-$out/build}
pmem_iterations=${DAXSTACK_PMEM_ITERATIONS:-2000000}

log() { printf '[run-device-bench] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- prerequisites
missing=()
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
dpkg-query -W -f='${Status}' libpmem-dev 2>/dev/null | grep -q 'install ok installed' || missing+=(libpmem-dev)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        apt=(apt-get)
    elif command -v sudo >/dev/null 2>&1; then
        apt=(sudo apt-get)
    else
        echo "run-device-bench: need ${missing[*]} and cannot install them (not root, no sudo)" >&2
        exit 1
    fi
    log "installing ${missing[*]}"
    "${apt[@]}" update -qq
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq "${missing[@]}" >/dev/null
fi

# ---------------------------------------------------------------- libpmem helper
helper="$out/pmem_persist_bench"
gcc -O2 -Wall -Wextra -Werror -o "$helper" "$here/native/pmem_persist_bench.c" -lpmem
shm_file="/dev/shm/daxstack-pmem-bench-$$"
trap 'rm -f "$shm_file"' EXIT

run_libpmem() {
    log "libpmem pmem_memcpy_persist 64 B ($1)"
    PMEM_IS_PMEM_FORCE=1 "$helper" "$shm_file" 64 "$pmem_iterations" 9 > "$out/pmem-$1.txt"
    cat "$out/pmem-$1.txt" >&2
}

# ---------------------------------------------------------------- .NET suites
log "building bench/ (Release, artifacts in $artifacts)"
dotnet build "$root/bench" -c Release --artifacts-path "$artifacts" -nologo -v quiet >"$out/build.log" 2>&1 \
    || { cat "$out/build.log" >&2; exit 1; }

run_libpmem before

log "BenchmarkDotNet suites *Persist* (${job_args[*]}); log: $out/bdn.log"
dotnet run -c Release --no-build --project "$root/bench" --artifacts-path "$artifacts" -- \
    --filter '*Persist*' --artifacts "$out/bdn" "${job_args[@]}" >"$out/bdn.log" 2>&1 \
    || { tail -50 "$out/bdn.log" >&2; exit 1; }
if ! ls "$out/bdn/results/"*-report-full.json >/dev/null 2>&1; then
    echo "run-device-bench: BenchmarkDotNet produced no results; see $out/bdn.log" >&2
    grep -A3 'ERROR' "$out/bdn.log" >&2 || true
    exit 1
fi

run_libpmem after

# ---------------------------------------------------------------- the table
echo
dotnet run -c Release --no-build --project "$root/bench" --artifacts-path "$artifacts" -- \
    report --results "$out/bdn/results" --pmem "$out/pmem-before.txt" --pmem "$out/pmem-after.txt" \
    | tee "$out/report.txt"
log "results in $out (report.txt, bdn/results, pmem-*.txt)"
