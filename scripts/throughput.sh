#!/usr/bin/env bash
# HTTP throughput of sealed-session next to no session at all and next to
# peer session crates, on axum and on actix-web, measured with wrk.
#
#   scripts/throughput.sh
#   ROUNDS=5 DURATION=10 scripts/throughput.sh
#
# The app (benches/throughput/src/main.rs) reads the session on every
# request and writes it on every 10th; the request mix is
# benches/throughput/mix.lua. Each variant's server runs on one thread
# (tokio current-thread runtime for axum, one worker for actix-web), pinned
# to CPU 1; wrk runs one thread pinned to CPU 0, so every variant shares the
# two cores the same way. Variants run in interleaved rounds, forward and
# backward in turn, so machine noise spreads over all of them; each run is a
# fresh server, a warm-up, then the measured run.
#
# Prints a table per framework (medians over the rounds, ratios to that
# framework's baseline) and writes it as markdown to target/throughput.md;
# every run's numbers go to target/throughput-runs.tsv.
#
# Environment (defaults in brackets):
#   ROUNDS [3]  DURATION [10] seconds  WARMUP [2] seconds
#   CONNECTIONS [32]  wrk connections, one logical client each
#   PIN [1]  pin server and wrk to separate CPUs (0: let the kernel place them)
#   SCHED [other]  "fifo" runs server and wrk under SCHED_FIFO (chrt -f 1,
#             root only): they then preempt other load at once instead of
#             waiting for the kernel to schedule them, which on a busy machine
#             decides throughput more than the code under test does. The
#             kernel's real-time throttling still leaves 5 % of each CPU to
#             everything else; p99 latency then mostly shows those pauses.
#   VARIANTS  space-separated framework:variant list (default: all nine)
#   CARGO_TARGET_DIR [target/]  the workspace's; the server is built with
#             its `throughput` profile, into $CARGO_TARGET_DIR/throughput/
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
package=$root/benches/throughput
lua=$package/mix.lua
target_dir=${CARGO_TARGET_DIR:-$root/target}
rounds=${ROUNDS:-3}
duration=${DURATION:-10}
warmup=${WARMUP:-2}
connections=${CONNECTIONS:-32}
pin=${PIN:-1}
sched=${SCHED:-other}
variants=(${VARIANTS:-axum:baseline axum:plain-cookie axum:sealed axum:tower-sessions \
    axum:private-jar actix:baseline actix:plain-cookie actix:sealed actix:actix-session})
markdown=$root/target/throughput.md
runs=$root/target/throughput-runs.tsv

for n in "$rounds" "$duration" "$warmup" "$connections"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS, DURATION, WARMUP and CONNECTIONS must be positive integers" >&2; exit 2; }
done
[[ $sched == other || $sched == fifo ]] || { echo "SCHED must be other or fifo" >&2; exit 2; }

if ! command -v wrk >/dev/null; then
    echo "installing wrk" >&2
    apt-get update && apt-get install -y wrk
fi

echo "building the server (profile throughput, target directory $target_dir)" >&2
cargo build --profile throughput --locked --quiet --manifest-path "$package/Cargo.toml"
server=$target_dir/throughput/throughput-server

server_cpus=()
client_cpus=()
if [[ $pin == 1 ]] && command -v taskset >/dev/null && (($(nproc) >= 2)); then
    server_cpus=(taskset -c 1)
    client_cpus=(taskset -c 0)
    placement="server pinned to CPU 1, wrk to CPU 0"
else
    placement="not pinned"
fi
if [[ $sched == fifo ]]; then
    server_cpus=(chrt -f 1 "${server_cpus[@]}")
    client_cpus=(chrt -f 1 "${client_cpus[@]}")
    placement="$placement, both SCHED_FIFO"
fi

work=$(mktemp -d)
server_pid=
stop_server() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    fi
}
cleanup() {
    stop_server
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts a server and sets $address, waiting at most 10 s for it to bind.
start_server() {
    local framework=$1 variant=$2
    : >"$work/server.out"
    "${server_cpus[@]}" "$server" --framework "$framework" --variant "$variant" \
        --bind 127.0.0.1:0 >"$work/server.out" 2>"$work/server.err" &
    server_pid=$!
    address=
    for _ in $(seq 100); do
        address=$(sed -n 's/^listening on //p' "$work/server.out")
        [[ -n $address ]] && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "server $framework/$variant did not start:" >&2
    cat "$work/server.err" >&2
    exit 1
}

# CPU time of a process in clock ticks (all threads): user, then system.
process_ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }
# CPU time of this shell's waited-for children in clock ticks.
children_ticks() { awk '{ print $16 + $17 }' "/proc/$$/stat"; }
ticks_per_second=$(getconf CLK_TCK)

# Runs wrk against $address for $1 seconds; output in $work/wrk.out.
run_wrk() {
    local seconds=$1 mode=$2
    timeout $((seconds + 30)) "${client_cpus[@]}" wrk -t1 -c"$connections" -d"${seconds}s" \
        --timeout 5s --latency -s "$lua" "http://$address" -- "$mode" "$connections" \
        >"$work/wrk.out" 2>&1 || {
        echo "wrk failed:" >&2
        cat "$work/wrk.out" >&2
        exit 1
    }
}

# Value of key $2 on the line of wrk output starting with $1.
field() { sed -n "s/^$1 .*\\b$2=\\([0-9.]*\\).*/\\1/p" "$work/wrk.out"; }

printf 'round\tframework\tvariant\trps\tp50_us\tp99_us\tlogins\treads\twrites\tnon2xx\tmissing\tstale\tnocookie\treadcookie\tunmatched\tsocket_errors\tserver_cpu_us\tserver_util\twrk_cpu_us\tserver_user_us\tserver_sys_us\n' >"$runs"

count=${#variants[@]}
total=$((rounds * count))
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "$rounds rounds x $count variants x (${warmup}s warm-up + ${duration}s), $connections connections; $placement" >&2
done_runs=0
for round in $(seq "$rounds"); do
    order=("${variants[@]}")
    if ((round % 2 == 0)); then
        order=()
        for ((i = count - 1; i >= 0; i--)); do order+=("${variants[i]}"); done
    fi
    for entry in "${order[@]}"; do
        framework=${entry%%:*}
        variant=${entry#*:}
        mode=session
        [[ $variant == baseline ]] && mode=baseline
        start_server "$framework" "$variant"
        run_wrk "$warmup" "$mode"
        read -r user_before sys_before < <(process_ticks "$server_pid")
        client_before=$(children_ticks)
        run_wrk "$duration" "$mode"
        client_after=$(children_ticks)
        read -r user_after sys_after < <(process_ticks "$server_pid")
        stop_server
        grep -q '^RESULT ' "$work/wrk.out" || { cat "$work/wrk.out" >&2; exit 1; }
        requests=$(field RESULT requests)
        elapsed_us=$(field RESULT duration_us)
        errors=$(awk '/^RESULT /{ n = 0; for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] ~ /^(connect|read|write|timeout)$/) n += kv[2] } print n }' "$work/wrk.out")
        read -r server_cpu server_util wrk_cpu server_user server_sys < <(awk \
            -v u=$((user_after - user_before)) -v k=$((sys_after - sys_before)) \
            -v c=$((client_after - client_before)) -v r="$requests" -v t="$elapsed_us" \
            -v hz="$ticks_per_second" 'BEGIN { s = u + k
                printf "%.2f %.2f %.2f %.2f %.2f\n", s / hz * 1e6 / r, s / hz * 1e6 / t, c / hz * 1e6 / r,
                    u / hz * 1e6 / r, k / hz * 1e6 / r }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
            "$round" "$framework" "$variant" "$(field RESULT rps)" "$(field RESULT p50_us)" \
            "$(field RESULT p99_us)" "$(field MIX logins)" "$(field MIX reads)" \
            "$(field MIX writes)" "$(field MIX non2xx)" "$(field MIX missing)" \
            "$(field MIX stale)" "$(field MIX nocookie)" "$(field MIX readcookie)" \
            "$(field MIX unmatched)" "$errors" "$server_cpu" "$server_util" "$wrk_cpu" \
            "$server_user" "$server_sys" >>"$runs"
        done_runs=$((done_runs + 1))
        printf '[%d/%d] round %d %-6s %-15s %10s req/s  p99 %6s us  server %6s us/req  load %s\n' \
            "$done_runs" "$total" "$round" "$framework" "$variant" "$(field RESULT rps)" \
            "$(field RESULT p99_us)" "$server_cpu" "$(cut -d' ' -f1 /proc/loadavg)" >&2
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# Median of the numbers on standard input.
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# Column $3 of the runs of framework $1, variant $2.
column() {
    awk -F'\t' -v f="$1" -v v="$2" -v c="$3" 'NR > 1 && $2 == f && $3 == v { print $c }' "$runs"
}
sum_column() { column "$@" | awk '{ s += $1 } END { print s + 0 }'; }
col() { head -1 "$runs" | tr '\t' '\n' | grep -nx "$1" | cut -d: -f1; }

{
    echo "# Throughput: sessions on axum and actix-web"
    echo
    echo "$started, $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),"
    echo "load average before $load_before, after $load_after. $rounds rounds x ${duration}s per variant"
    echo "(after ${warmup}s warm-up), interleaved, alternating order; wrk -t1 -c$connections; $placement."
    echo "Servers: one thread (axum on a tokio current-thread runtime, actix-web with one worker)."
    echo
    echo "Medians over the rounds; ratios are to the same framework's baseline."
    echo "\`server CPU\` is the server process's CPU time per request, split into user space and"
    echo "kernel (mostly TCP over loopback, including waking wrk: a slower server wakes an idle"
    echo "wrk more often, so kernel time grows with user time); \`server busy\` the share of one"
    echo "core it used, \`wrk CPU\` the load generator's CPU time per request. \`plain-cookie\` is"
    echo "the floor of any cookie session: the same cookie length and headers, nothing sealed."
    echo "\`checks\` adds stale visit counts, logins or writes without Set-Cookie, unmatched"
    echo "responses and socket errors: all must be 0."
    for framework in axum actix; do
        rows=()
        for entry in "${variants[@]}"; do
            [[ ${entry%%:*} == "$framework" ]] && rows+=("${entry#*:}")
        done
        ((${#rows[@]})) || continue
        base_rps=$(column "$framework" baseline "$(col rps)" | median)
        base_p99=$(column "$framework" baseline "$(col p99_us)" | median)
        base_cpu=$(column "$framework" baseline "$(col server_cpu_us)" | median)
        echo
        echo "## $framework"
        echo
        echo "| variant | req/s | vs baseline | p99 ms | vs baseline | server CPU µs/req | vs baseline | user µs/req | kernel µs/req | req/s min–max | server busy | wrk CPU µs/req | non-2xx | missing session | checks |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        for variant in "${rows[@]}"; do
            rps=$(column "$framework" "$variant" "$(col rps)" | median)
            p99=$(column "$framework" "$variant" "$(col p99_us)" | median)
            cpu=$(column "$framework" "$variant" "$(col server_cpu_us)" | median)
            user=$(column "$framework" "$variant" "$(col server_user_us)" | median)
            sys=$(column "$framework" "$variant" "$(col server_sys_us)" | median)
            low=$(column "$framework" "$variant" "$(col rps)" | sort -g | head -1)
            high=$(column "$framework" "$variant" "$(col rps)" | sort -g | tail -1)
            util=$(column "$framework" "$variant" "$(col server_util)" | median)
            wrk_cpu=$(column "$framework" "$variant" "$(col wrk_cpu_us)" | median)
            non2xx=$(sum_column "$framework" "$variant" "$(col non2xx)")
            missing=$(sum_column "$framework" "$variant" "$(col missing)")
            checks=0
            for name in stale nocookie unmatched socket_errors; do
                checks=$((checks + $(sum_column "$framework" "$variant" "$(col $name)")))
            done
            [[ $variant == baseline ]] && missing="n/a"
            awk -v v="$variant" -v r="$rps" -v br="$base_rps" -v p="$p99" -v bp="$base_p99" \
                -v c="$cpu" -v bc="$base_cpu" -v us="$user" -v ks="$sys" -v lo="$low" -v hi="$high" -v u="$util" -v w="$wrk_cpu" -v n="$non2xx" \
                -v m="$missing" -v k="$checks" 'BEGIN {
                    printf "| %s | %.0f | %.1f %% | %.2f | %.2fx | %.2f | %.2fx | %.2f | %.2f | %.0f–%.0f | %.0f %% | %.1f | %s | %s | %s |\n",
                        v, r, 100 * r / br, p / 1000, p / bp, c, c / bc, us, ks, lo, hi, 100 * u, w, n, m, k }'
        done
    done
    echo
    echo "Request mix (sent, all runs, all variants alike):"
    awk -F'\t' 'NR > 1 { l += $7; r += $8; w += $9; n++ } END {
        printf "%d runs, %d logins (one per client, +1 per run: wrk calls request() once to check the script, unsent), %d reads, %d writes: writes are %.2f %% of reads + writes.\n", n, l, r, w, 100 * w / (r + w) }' "$runs"
    echo
    echo "Per-run numbers: target/throughput-runs.tsv."
} >"$markdown"

cat "$markdown"

# The targets: sealed-session at least 90 % of baseline and ahead of every peer.
echo
status=0
for framework in axum actix; do
    sealed=$(column "$framework" sealed "$(col rps)" | median)
    base=$(column "$framework" baseline "$(col rps)" | median)
    [[ $sealed == nan || $base == nan ]] && continue
    verdict=$(awk -v s="$sealed" -v b="$base" 'BEGIN { print (s >= 0.9 * b ? "met" : "MISSED") }')
    echo "$framework: sealed-session at least 90 % of baseline req/s: $verdict"
    plain=$(column "$framework" plain-cookie "$(col rps)" | median)
    if [[ $plain != nan ]]; then
        awk -v s="$sealed" -v p="$plain" -v b="$base" -v f="$framework" 'BEGIN {
            printf "%s: plain-cookie floor at %.1f %% of baseline; sealed-session at %.1f %% of the floor\n", f, 100 * p / b, 100 * s / p }'
    fi
    for entry in "${variants[@]}"; do
        [[ ${entry%%:*} == "$framework" ]] || continue
        peer=${entry#*:}
        [[ $peer == baseline || $peer == sealed || $peer == plain-cookie ]] && continue
        other=$(column "$framework" "$peer" "$(col rps)" | median)
        verdict=$(awk -v s="$sealed" -v o="$other" 'BEGIN { print (s > o ? "met" : "MISSED") }')
        echo "$framework: sealed-session ahead of $peer: $verdict"
    done
done
bad=$(awk -F'\t' 'NR > 1 { n += $10 + $12 + $13 + $15 + $16; if ($3 != "baseline") n += $11 } END { print n + 0 }' "$runs")
if ((bad > 0)); then
    echo "FAILED: $bad non-2xx, missing-session or other check failures (see $runs)" >&2
    status=1
fi
exit "$status"
