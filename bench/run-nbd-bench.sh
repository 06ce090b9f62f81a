#!/usr/bin/env bash
# NBD export benchmark of DESIGN.md section 7 ("the NBD export at least as fast as nbdkit
# memory under the same client and workload"), in one run on this machine:
#   1. builds daxstack (Release) and starts `daxstack serve` on a plain image in /dev/shm and
#      `nbdkit memory` of the same size, both on free loopback ports, both for the whole run;
#   2. runs the same client workloads against each, alternating which server goes first on every
#      repetition (a noisy 2-core machine drifts; interleaving spreads the drift over both):
#        nbdcopy in  (a /dev/shm file of SIZE random bytes -> the export, ending with a flush)
#        nbdcopy out (the export -> null:)
#        fio's nbd engine: 4k randread, 4k randwrite, 1M sequential read, 1M sequential write
#          (writes flushed every 8 MiB)
#   3. prints one Markdown table (median MB/s per server, ratio daxstack/nbdkit, and the CPU time
#      each server and the client spent) and the exact commands. MB/s is 10^6 bytes per second.
#      Server CPU is the server process's user + system time over the client's run (threads that
#      ended included), per GB moved; client CPUs is the client's user + system time over its
#      wall-clock time: near the machine's core count, the client is what limits the run.
# Every write workload flushes (nbdcopy --flush, fio --fsync): daxstack models pmem, where
# written data is in flight until a flush, and the emulator tracks what is in flight for crash
# simulation; a client that never flushes is not what this measures. nbdkit memory's flush is
# free, so the flushes cost only daxstack.
# Installs libnbd-bin, nbdkit, fio and time with apt-get when missing.
#
# Usage: bench/run-nbd-bench.sh [--out DIR] [--size SIZE] [--repeats N] [--fio-repeats N]
#                               [--fio-runtime S] [--warmups N] [--no-build] [--aa]
#   --out DIR          where logs and results go (default: a new /tmp/daxstack-nbd-bench.XXXXXX)
#   --size SIZE        export size and nbdcopy volume, a truncate(1) size (default 256M)
#   --repeats N        nbdcopy repetitions per server (default 5)
#   --fio-repeats N    fio repetitions per workload and server (default 3)
#   --fio-runtime S    seconds each fio run measures, after a 1 s ramp (default 3)
#   --warmups N        untimed rounds per server before anything is measured, each an nbdcopy
#                      in and out (default 30; the first fills the exports), then one short
#                      untimed run of each fio workload
#   --no-build         use the daxstack already built in the artifacts path
#   --aa               A/A run: a second nbdkit memory takes daxstack's place (columns say so),
#                      to see the measurement noise; daxstack is neither built nor run
# Environment: DAXSTACK_BENCH_ARTIFACTS  dotnet --artifacts-path (default: OUT/build)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
out=""
size=256M
repeats=5
fio_repeats=3
fio_runtime=3
warmups=30
aa=0
build=1

while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=${2:?--out needs a directory}; shift 2 ;;
        --size) size=${2:?--size needs a size}; shift 2 ;;
        --repeats) repeats=${2:?--repeats needs a number}; shift 2 ;;
        --fio-repeats) fio_repeats=${2:?--fio-repeats needs a number}; shift 2 ;;
        --fio-runtime) fio_runtime=${2:?--fio-runtime needs seconds}; shift 2 ;;
        --warmups) warmups=${2:?--warmups needs a number}; shift 2 ;;
        --aa) aa=1; shift ;;
        --no-build) build=0; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "run-nbd-bench: unknown argument '$1' (see --help)" >&2; exit 64 ;;
    esac
done
for n in "$repeats" "$fio_repeats" "$fio_runtime" "$warmups"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "run-nbd-bench: '$n' is not a positive whole number" >&2; exit 64; }
done
[ -n "$out" ] || out=$(mktemp -d /tmp/daxstack-nbd-bench.XXXXXX)
mkdir -p "$out"
artifacts=${DAXSTACK_BENCH_ARTIFACTS:-$out/build}

log() { printf '[run-nbd-bench] %s\n' "$*" >&2; }
die() { printf 'run-nbd-bench: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- prerequisites
missing=()
for p in libnbd-bin nbdkit fio time; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        apt=(apt-get)
    elif command -v sudo >/dev/null 2>&1; then
        apt=(sudo apt-get)
    else
        die "need ${missing[*]} and cannot install them (not root, no sudo)"
    fi
    log "installing ${missing[*]}"
    "${apt[@]}" update -qq
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq "${missing[@]}" >/dev/null
fi
fio --enghelp 2>/dev/null | grep -qw nbd || die "this fio has no nbd engine (fio --enghelp does not list it)"

size_bytes=$(numfmt --from=iec "$size") || die "--size '$size' is not a size"
[ $((size_bytes % 4096)) -eq 0 ] && [ "$size_bytes" -ge $((64 << 20)) ] || die "--size must be a multiple of 4096 and at least 64M"

# ---------------------------------------------------------------- build
daxstack_dll="$artifacts/bin/DaxStack.Tools/release/daxstack.dll"
if [ "$aa" -eq 0 ] && [ "$build" -eq 1 ]; then
    log "building daxstack (Release) into $artifacts"
    dotnet build "$root/tools/DaxStack.Tools.csproj" -c Release --artifacts-path "$artifacts" -v quiet -nologo >"$out/build.log" 2>&1 \
        || { tail -30 "$out/build.log" >&2; die "build failed (log: $out/build.log)"; }
fi
if [ "$aa" -eq 0 ]; then
    [ -f "$daxstack_dll" ] || die "build produced no $daxstack_dll"
    dotnet "$daxstack_dll" serve --help >/dev/null 2>&1 || die "this daxstack has no 'serve' command yet"
fi

# ---------------------------------------------------------------- servers
shm_prefix="/dev/shm/daxstack-nbd-bench-$$"
server_pids=()
cleanup() {
    local pid
    for pid in "${server_pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${server_pids[@]}"; do
        # Bounded wait: a server that ignores SIGTERM for 10 s is killed.
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -f "$shm_prefix".*
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The TCP port PID listens on: its socket inodes (/proc/PID/fd) matched against the LISTEN
# (state 0A) rows of /proc/PID/net/tcp. Prints nothing while it is not listening yet.
listen_port() {
    local pid=$1 inodes hex
    inodes=$(find "/proc/$pid/fd" -maxdepth 1 -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n' | paste -sd' ' -)
    [ -n "$inodes" ] || return 0
    hex=$(awk -v inodes="$inodes" 'BEGIN { n = split(inodes, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
        NR > 1 && $4 == "0A" && ($10 in want) { split($2, addr, ":"); print addr[2]; exit }' \
        "/proc/$pid/net/tcp" 2>/dev/null)
    # mawk (Debian's default awk) has no strtonum: convert the hex port in bash.
    [ -z "$hex" ] || echo $((16#$hex))
}

# Starts nbdkit memory of SIZE on a free loopback port; sets started_uri. (Not run in a $(...)
# subshell: the server's pid must reach server_pids, and die must end the script.)
start_nbdkit() {
    local tag=$1 pidfile="$shm_prefix.$1.pid" port=""
    nbdkit -f -i 127.0.0.1 -p 0 -P "$pidfile" memory size="$size_bytes" >"$out/$tag.log" 2>&1 &
    server_pids+=($!)
    local pid=$!
    started_pid=$pid
    for _ in $(seq 300); do
        kill -0 "$pid" 2>/dev/null || { cat "$out/$tag.log" >&2; die "nbdkit ($tag) exited at start"; }
        [ -f "$pidfile" ] && port=$(listen_port "$pid") && [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || die "nbdkit ($tag) was not listening after 30 s"
    started_uri="nbd://127.0.0.1:$port/"
}

# Starts daxstack serve on a plain image of SIZE in /dev/shm; sets started_uri to the URI it announces.
start_daxstack() {
    local image="$shm_prefix.img" line=""
    truncate -s "$size_bytes" "$image"
    dotnet "$daxstack_dll" serve --image "$image" --nbd 127.0.0.1:0 >"$out/daxstack.log" 2>&1 &
    server_pids+=($!)
    local pid=$!
    started_pid=$pid
    for _ in $(seq 600); do
        line=$(grep -m1 "^daxstack serve: exporting " "$out/daxstack.log" || true)
        [ -n "$line" ] && break
        kill -0 "$pid" 2>/dev/null || { cat "$out/daxstack.log" >&2; die "daxstack serve exited at start"; }
        sleep 0.1
    done
    [ -n "$line" ] || die "daxstack serve did not announce its export within 60 s"
    started_uri=$(grep -o 'nbd://[^ ]*' <<<"$line")
}

started_uri=""
started_pid=""
start_nbdkit nbdkit
nbdkit_uri=$started_uri
nbdkit_pid=$started_pid
if [ "$aa" -eq 1 ]; then
    ours_label="nbdkit A"
    theirs_label="nbdkit B"
    start_nbdkit nbdkit-a
else
    ours_label="daxstack"
    theirs_label="nbdkit"
    start_daxstack
fi
ours_uri=$started_uri
ours_pid=$started_pid
log "$ours_label: $ours_uri"
log "$theirs_label: $nbdkit_uri"

# ---------------------------------------------------------------- workloads
source_file="$shm_prefix.src"
log "writing $size of random data to $source_file"
head -c "$size_bytes" /dev/urandom >"$source_file"

# One row per run: workload, server, MB/s, server CPU ms, client CPU ms, client wall-clock ms.
results="$out/results.tsv"
: >"$results"

now_ns() { date +%s%N; }
clock_ticks=$(getconf CLK_TCK)

# User + system CPU time of process PID so far, in ms (its ended threads included).
cpu_ms() { awk -v hz="$clock_ticks" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat"; }

# Runs a client command, timing it and the server PID over it: sets run_wall_ns, run_wall_ms,
# run_client_ms and run_server_ms. Fails (die) if the client fails.
timed_client() {
    local server=$1 pid=$2 s0 t0 t1 user sys
    shift 2
    s0=$(cpu_ms "$pid")
    t0=$(now_ns)
    /usr/bin/time -f "%U %S" -o "$out/time.$$" "$@" >/dev/null || die "'$*' failed against $server"
    t1=$(now_ns)
    run_server_ms=$(( $(cpu_ms "$pid") - s0 ))
    run_wall_ns=$((t1 - t0))
    run_wall_ms=$((run_wall_ns / 1000000))
    read -r user sys <"$out/time.$$"
    run_client_ms=$(awk -v u="$user" -v s="$sys" 'BEGIN { print int((u + s) * 1000) }')
}

# nbdcopy of SIZE bytes in one direction; appends one row.
run_nbdcopy() {
    local workload=$1 server=$2 uri=$3 pid=$4
    local -a cmd
    if [ "$workload" = "nbdcopy in" ]; then cmd=(nbdcopy --flush "$source_file" "$uri"); else cmd=(nbdcopy "$uri" null:); fi
    timed_client "$server" "$pid" "${cmd[@]}"
    awk -v w="$workload" -v s="$server" -v b="$size_bytes" -v ns="$run_wall_ns" \
        -v sc="$run_server_ms" -v cc="$run_client_ms" -v wall="$run_wall_ms" \
        'BEGIN { printf "%s\t%s\t%.1f\t%d\t%d\t%d\n", w, s, b / (ns / 1e9) / 1e6, sc, cc, wall }' >>"$results"
}

# fio_args WORKLOAD: the job options for one fio workload.
fio_args() {
    case "$1" in
        "fio 4k randread")  echo "--rw=randread --bs=4k --iodepth=32" ;;
        "fio 4k randwrite") echo "--rw=randwrite --bs=4k --iodepth=32 --fsync=2048" ;;
        "fio 1M read")      echo "--rw=read --bs=1M --iodepth=8" ;;
        "fio 1M write")     echo "--rw=write --bs=1M --iodepth=8 --fsync=8" ;;
    esac
}
fio_common="--ioengine=nbd --numjobs=1 --time_based --ramp_time=1 --runtime=$fio_runtime --output-format=json"

run_fio() {
    local workload=$1 server=$2 uri=$3 pid=$4 json
    json="$out/fio.$$.json"
    # shellcheck disable=SC2046 # the option lists are meant to split into words
    # --uri is an option of the nbd engine: fio accepts it only after --ioengine=nbd.
    timed_client "$server" "$pid" fio --name=bench $fio_common --uri="$uri" $(fio_args "$workload") --output="$json"
    python3 - "$json" "$workload" "$server" "$run_server_ms" "$run_client_ms" "$run_wall_ms" >>"$results" <<'PY'
import json, sys
path, workload, server, server_ms, client_ms, wall_ms = sys.argv[1:]
text = open(path).read()
job = json.loads(text[text.index("{"):])["jobs"][0]   # fio may print a line before the JSON
if job["error"]:
    sys.exit(f"fio job error {job['error']}")
bw = job["read"]["bw_bytes"] + job["write"]["bw_bytes"]
print(f"{workload}\t{server}\t{bw / 1e6:.1f}\t{server_ms}\t{client_ms}\t{wall_ms}")
PY
}

# Runs WORKLOAD N times on both servers, the first server alternating between repetitions.
interleave() {
    local runner=$1 workload=$2 n=$3 i
    for i in $(seq "$n"); do
        if [ $((i % 2)) -eq 1 ]; then
            "$runner" "$workload" "$ours_label" "$ours_uri" "$ours_pid"
            "$runner" "$workload" "$theirs_label" "$nbdkit_uri" "$nbdkit_pid"
        else
            "$runner" "$workload" "$theirs_label" "$nbdkit_uri" "$nbdkit_pid"
            "$runner" "$workload" "$ours_label" "$ours_uri" "$ours_pid"
        fi
    done
    log "$workload: done"
}

workloads=("nbdcopy in" "nbdcopy out" "fio 4k randread" "fio 4k randwrite" "fio 1M read" "fio 1M write")
# Untimed passes per server first. The first copy fills both exports (so reads read data, not
# holes). The rest let the .NET server reach the steady state a long-running server is in: its
# tiered JIT recompiles a method after 30 calls and again after 30 more, and code that runs once
# per connection (handshake, logging, thread start) needs dozens of connections for that. In
# alternated runs on this machine, nbdcopy in cost the server 596 ms of CPU per GB after one
# warm-up copy with tiering on, 525 with it off (DOTNET_TieredCompilation=0), and 458 either way
# after 30 rounds. nbdkit, which needs no warm-up, gets the same rounds.
log "warm-up: $warmups untimed rounds of nbdcopy in and out per server, then one short run of each fio workload"
for i in $(seq "$warmups"); do
    for uri in "$ours_uri" "$nbdkit_uri"; do
        nbdcopy --flush "$source_file" "$uri" && nbdcopy "$uri" null: || die "warm-up copy failed"
    done
done
for w in "fio 4k randread" "fio 4k randwrite" "fio 1M read" "fio 1M write"; do
    for uri in "$ours_uri" "$nbdkit_uri"; do
        # shellcheck disable=SC2046
        fio --name=warmup --ioengine=nbd --numjobs=1 --time_based --runtime=1 --output-format=json \
            --uri="$uri" $(fio_args "$w") >/dev/null || die "warm-up fio ($w) failed"
    done
done

interleave run_nbdcopy "nbdcopy in" "$repeats"
interleave run_nbdcopy "nbdcopy out" "$repeats"
for w in "fio 4k randread" "fio 4k randwrite" "fio 1M read" "fio 1M write"; do
    interleave run_fio "$w" "$fio_repeats"
done
rm -f "$out/fio.$$.json" "$out/time.$$"

# ---------------------------------------------------------------- report
report="$out/report.md"
{
    echo "## NBD export throughput: $ours_label vs $theirs_label (median MB/s, 10^6 bytes/s)"
    echo
    echo "$(nproc) CPUs, $(uname -r); export size $size ($size_bytes bytes); nbdcopy runs: $repeats per server, fio runs: $fio_repeats per server of ${fio_runtime} s."
    echo
    python3 - "$results" "$aa" "$ours_label" "$theirs_label" "${workloads[@]}" <<'PY'
import random, statistics, sys
path, aa, ours, theirs, *workloads = sys.argv[1:]
runs, server_cpu, client_busy = {}, {}, {}
for line in open(path):
    w, s, v, server_ms, client_ms, wall_ms = line.rstrip("\n").split("\t")
    mbps, wall = float(v), max(int(wall_ms), 1)
    runs.setdefault((w, s), []).append(mbps)
    # CPU ms per GB: the server's CPU per second of the client's run over the GB per second.
    server_cpu.setdefault((w, s), []).append(int(server_ms) / (wall / 1000) / (mbps / 1000) if mbps else float("nan"))
    client_busy.setdefault((w, s), []).append(int(client_ms) / wall)
order = {}
for line in open(path):
    w, s = line.split("\t")[:2]
    order.setdefault(w, []).append(s)
print(f"| workload | {ours} MB/s | {theirs} MB/s | ratio ({ours}/{theirs}) | 90% interval | paired ratio (90% interval) | server CPU ms/GB ({ours} / {theirs}) | client CPUs busy ({ours} / {theirs}) | {ours} runs | {theirs} runs |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
met = within = paired_within = 0
med = statistics.median
# The ratio of medians' 90% interval: each server's runs resampled with replacement (a
# bootstrap, seeded so that a report is reproducible from its results.tsv).
rng = random.Random(1)
def interval(a, b, n=2000):
    ratios = sorted(med(rng.choices(a, k=len(a))) / med(rng.choices(b, k=len(b))) for _ in range(n))
    return ratios[int(0.05 * n)], ratios[int(0.95 * n) - 1]
# Paired: each repetition runs both servers back to back (rows 2i and 2i+1 of a workload), so
# the ratio within a repetition cancels the machine's drift between repetitions, which on a
# shared machine moves both servers together. The median of those ratios, and its 90% interval
# from the repetitions resampled with replacement.
paired_rng = random.Random(2)
def paired(w):
    seq = order[w]
    vals = {ours: iter(runs[(w, ours)]), theirs: iter(runs[(w, theirs)])}
    by_row = [(s, next(vals[s])) for s in seq]
    ratios = []
    for i in range(0, len(by_row) - 1, 2):
        pair = dict(by_row[i:i + 2])
        if len(pair) == 2 and pair[theirs]:
            ratios.append(pair[ours] / pair[theirs])
    if not ratios:
        return float("nan"), float("nan"), float("nan")
    boot = sorted(med(paired_rng.choices(ratios, k=len(ratios))) for _ in range(2000))
    return med(ratios), boot[int(0.05 * 2000)], boot[int(0.95 * 2000) - 1]
for w in workloads:
    a, b = runs[(w, ours)], runs[(w, theirs)]
    ma, mb = med(a), med(b)
    ratio = ma / mb if mb else float("nan")
    met += ratio >= 1.0
    low, high = interval(a, b)
    within += high >= 1.0
    pr, plow, phigh = paired(w)
    paired_within += phigh >= 1.0
    fmt = lambda xs: " ".join(f"{x:.0f}" for x in xs)
    cpu = f"{med(server_cpu[(w, ours)]):.0f} / {med(server_cpu[(w, theirs)]):.0f}"
    busy = f"{med(client_busy[(w, ours)]):.2f} / {med(client_busy[(w, theirs)]):.2f}"
    print(f"| {w} | {ma:.1f} | {mb:.1f} | {ratio:.2f} | {low:.2f}-{high:.2f} | {pr:.2f} ({plow:.2f}-{phigh:.2f}) | {cpu} | {busy} | {fmt(a)} | {fmt(b)} |")
print()
if aa == "1":
    print("A/A run: both columns are the same server, so the ratios show only the measurement noise.")
else:
    print(f"Target (DESIGN.md section 7: at least as fast as nbdkit memory): ratio >= 1.00 in {met} of {len(workloads)} workloads.")
    print(f"The ratio's 90% interval reaches 1.00 in {within} of {len(workloads)} workloads (where it does not, {ours} was slower in this run beyond its noise).")
    print(f"The paired ratio's 90% interval reaches 1.00 in {paired_within} of {len(workloads)} workloads (the same test with the drift between repetitions taken out).")
PY
    echo
    echo "Servers (each kept running for the whole run):"
    echo
    echo '```'
    if [ "$aa" -eq 1 ]; then
        echo "nbdkit -f -i 127.0.0.1 -p 0 -P PIDFILE memory size=$size_bytes    # twice: A and B"
    else
        echo "truncate -s $size_bytes /dev/shm/IMAGE"
        echo "dotnet daxstack.dll serve --image /dev/shm/IMAGE --nbd 127.0.0.1:0    # Release build"
        echo "nbdkit -f -i 127.0.0.1 -p 0 -P PIDFILE memory size=$size_bytes"
    fi
    echo '```'
    echo
    echo "Client commands (URI is each server's nbd:// URI; SOURCE is $size of /dev/urandom in /dev/shm):"
    echo
    echo '```'
    echo "nbdcopy --flush SOURCE URI    # nbdcopy in"
    echo "nbdcopy URI null:             # nbdcopy out"
    for w in "fio 4k randread" "fio 4k randwrite" "fio 1M read" "fio 1M write"; do
        echo "fio --name=bench $fio_common --uri=URI $(fio_args "$w")    # $w"
    done
    echo '```'
    echo
    echo "Order: each repetition runs both servers back to back, the first one alternating. Before any measurement each server gets $warmups untimed rounds of nbdcopy in and out and one 1 s run of each fio workload, so that the .NET server's tiered JIT has settled (the same for nbdkit)."
} >"$report"
cat "$report"
log "results: $out (report.md, results.tsv, server logs)"
