#!/usr/bin/env bash
# Builds every fuzz target and runs each one for SECONDS seconds (default
# 30), starting from the committed seeds in fuzz/corpus/<target>/seed-*.
# Stops with a non-zero status at the first crash, leak, timeout or
# out-of-memory; the failing input is in fuzz/artifacts/<target>/.
#
# New corpus entries go to a scratch directory, so runs never touch the
# committed corpus. Set FUZZ_SCRATCH_DIR to keep that directory (it is
# deleted otherwise).
#
#   fuzz/smoke.sh        # 30 s per target
#   fuzz/smoke.sh 60     # 60 s per target
set -euo pipefail

seconds="${1:-30}"
case "$seconds" in
'' | *[!0-9]*)
    echo "usage: $0 [SECONDS]" >&2
    exit 2
    ;;
esac

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$fuzz_dir/.."

export CI=true
export CARGO_TERM_COLOR=never
export CARGO_TERM_PROGRESS_WHEN=never

# Sanitizer flags need a nightly compiler; without one, let stable act as
# nightly.
if command -v rustup >/dev/null 2>&1 && rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi

if [ -n "${FUZZ_SCRATCH_DIR:-}" ]; then
    scratch="$FUZZ_SCRATCH_DIR"
    mkdir -p "$scratch"
else
    scratch="$(mktemp -d "${TMPDIR:-/tmp}/sealed-session-fuzz.XXXXXX")"
    trap 'rm -rf "$scratch"' EXIT
fi

"${fuzz[@]}" build </dev/null
targets="$("${fuzz[@]}" list </dev/null)"

summary=()
for target in $targets; do
    corpus="$scratch/corpus/$target"
    log="$scratch/$target.log"
    mkdir -p "$corpus"
    if compgen -G "$fuzz_dir/corpus/$target/seed-*" >/dev/null; then
        cp "$fuzz_dir/corpus/$target"/seed-* "$corpus/"
    fi

    args=(
        "-max_total_time=$seconds"
        -timeout=10
        -rss_limit_mb=2048
        -print_final_stats=1
    )
    case "$target" in
    open | header) args+=("-dict=$fuzz_dir/dict/open.dict") ;;
    keyring_parse | cookie_header | proxy_headers | legacy) args+=("-dict=$fuzz_dir/dict/$target.dict") ;;
    esac

    echo "==> $target: ${seconds}s"
    # libFuzzer writes new inputs to the first corpus directory given.
    if ! "${fuzz[@]}" run "$target" "$corpus" -- "${args[@]}" </dev/null >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        echo "==> $target FAILED; the input is in fuzz/artifacts/$target/" >&2
        exit 1
    fi

    # The last status line (`#N ... cov: C ft: F ...`) and the final stats.
    status="$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)"
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status")"
    ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status")"
    summary+=("$(printf '%-14s execs %-10s cov %-6s ft %s' "$target" "${execs:-?}" "${cov:-?}" "${ft:-?}")")
    echo "    $status"
done

echo
echo "All targets ran ${seconds}s without a failure:"
printf '  %s\n' "${summary[@]}"
