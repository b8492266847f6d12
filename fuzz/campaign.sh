#!/usr/bin/env bash
# A long fuzzing campaign: every target (or those named) until it reaches
# RUNS executions or SECONDS seconds, whichever comes first, growing a
# scratch corpus that starts from the committed seeds. Prints one summary
# line per target (executions, coverage, features, corpus size) and keeps
# each target's full log in $OUT/<target>.log.
#
#   fuzz/campaign.sh                         # 10M execs or 15 min per target
#   RUNS=1000000 SECONDS_PER_TARGET=60 fuzz/campaign.sh open header
set -euo pipefail

runs="${RUNS:-10000000}"
seconds="${SECONDS_PER_TARGET:-900}"
fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${OUT:-$fuzz_dir/../target/fuzz-campaign}"
mkdir -p "$out"
cd "$fuzz_dir/.."

if command -v rustup >/dev/null 2>&1 && rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <("${fuzz[@]}" list)
fi

for target in "${targets[@]}"; do
    corpus="$out/corpus/$target"
    mkdir -p "$corpus"
    cp -n fuzz/corpus/"$target"/seed-* "$corpus"/ 2>/dev/null || true
    dict=()
    if [ -f "fuzz/dict/$target.dict" ]; then
        dict=("-dict=fuzz/dict/$target.dict")
    fi
    "${fuzz[@]}" run "$target" "$corpus" -- \
        -runs="$runs" -max_total_time="$seconds" -print_final_stats=1 \
        "${dict[@]}" >"$out/$target.log" 2>&1 || {
        echo "$target: FAILED (see $out/$target.log)"
        tail -n 40 "$out/$target.log"
        exit 1
    }
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$target.log" | grep -o '[0-9]*$' || echo '?')
    seconds_run=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$out/$target.log" | grep -o '[0-9]* second' | grep -o '[0-9]*' || echo '?')
    last=$(grep -E '^#[0-9]+' "$out/$target.log" | tail -n 1)
    cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.*corp: \([0-9]*\).*/\1/p' <<<"$last")
    echo "$target: execs=$execs seconds=${seconds_run:-$seconds} cov=$cov ft=$ft corpus=$corp"
done
