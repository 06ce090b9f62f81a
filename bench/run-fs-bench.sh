#!/usr/bin/env bash
# Filesystem benchmarks of issue 4 section 6, in one short run on this machine: the
# BenchmarkDotNet suites bench/Fs/Fs*Benchmarks (Release, in process, an in-memory optane-adr
# pmem device formatted by our mkfs and mounted through the VFS) and one Markdown table of
#   (a) create + 4 KiB write + fsync + close of a new file,
#   (b) 4 KiB random overwrite of a 64 MiB file, without and with O_DSYNC,
#   (c) append 4 KiB + fdatasync,
#   (d) create+unlink, mkdir+rmdir, rename, stat,
# each as wall-clock (BenchmarkDotNet's mean per operation) and modeled time (device
# nanoseconds charged to the emulated CPUs during an iteration, divided by its operations,
# averaged over the iterations), with operations per second and managed bytes allocated.
#
# Usage: bench/run-fs-bench.sh [--out DIR] [-- BENCHMARKDOTNET-ARGS...]
#   --out DIR   where results go (default: a new /tmp/daxstack-fs-bench.XXXXXX)
#   args after --  replace the default job options
#                  (--launchCount 1 --warmupCount 2 --iterationCount 6)
# Environment: DAXSTACK_BENCH_ARTIFACTS  dotnet --artifacts-path (default: OUT/build)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
out=""
job_args=(--launchCount 1 --warmupCount 2 --iterationCount 6)

while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=${2:?--out needs a directory}; shift 2 ;;
        --) shift; job_args=("$@"); break ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "run-fs-bench: unknown argument '$1' (see --help)" >&2; exit 64 ;;
    esac
done
[ -n "$out" ] || out=$(mktemp -d /tmp/daxstack-fs-bench.XXXXXX)
mkdir -p "$out"
artifacts=${DAXSTACK_BENCH_ARTIFACTS:-$out/build}
modeled="$out/modeled.tsv"
: > "$modeled"

log() { printf '[run-fs-bench] %s\n' "$*" >&2; }

log "building bench/ (Release, artifacts in $artifacts)"
dotnet build "$root/bench" -c Release --artifacts-path "$artifacts" -nologo -v quiet >"$out/build.log" 2>&1 \
    || { cat "$out/build.log" >&2; exit 1; }

log "BenchmarkDotNet suites *.Fs*Benchmarks.* (${job_args[*]}); log: $out/bdn.log"
DAXSTACK_FS_MODELED="$modeled" \
    dotnet run -c Release --no-build --project "$root/bench" --artifacts-path "$artifacts" -- \
    --filter '*.Fs*Benchmarks.*' --artifacts "$out/bdn" "${job_args[@]}" >"$out/bdn.log" 2>&1 \
    || { tail -50 "$out/bdn.log" >&2; exit 1; }
if ! ls "$out/bdn/results/"*-report-full.json >/dev/null 2>&1; then
    echo "run-fs-bench: BenchmarkDotNet produced no results; see $out/bdn.log" >&2
    grep -A3 'ERROR' "$out/bdn.log" >&2 || true
    exit 1
fi

echo
dotnet run -c Release --no-build --project "$root/bench" --artifacts-path "$artifacts" -- \
    fs-report --results "$out/bdn/results" --modeled "$modeled" \
    | tee "$out/report.md"
log "results in $out (report.md, modeled.tsv, bdn/results, bdn.log)"
