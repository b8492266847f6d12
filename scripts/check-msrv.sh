#!/usr/bin/env bash
# Checks that the `rust-version` in Cargo.toml is one CI verifies:
#
# 1. no package in Cargo.lock (every workspace member, every platform)
#    declares a newer `rust-version`;
# 2. the toolchain running this script is that release, or that release is
#    installed (`rustup toolchain install <version>`) and builds and tests
#    the crate here.
#
#   scripts/check-msrv.sh        # from anywhere in the repository
#
# Exits 1 naming what is newer than the declaration. Needs only cargo,
# rustc, grep, sed, awk and sort.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

declared=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' Cargo.toml | head -n 1)
if [[ -z $declared ]]; then
    echo "error: no rust-version in Cargo.toml" >&2
    exit 1
fi

# x.y or x.y.z -> x.y.z, for comparing with sort -V.
full() { local v=$1; [[ $v == *.*.* ]] || v=$v.0; echo "$v"; }
newer() { [[ $(printf '%s\n%s\n' "$(full "$1")" "$(full "$2")" | sort -V | tail -n 1) != "$(full "$2")" ]]; }

# Every locked package with its rust-version: in `cargo metadata`, each
# package object starts with "name", "version", "id"; its rust_version comes
# after its dependency list, before the next package starts.
locked=$(cargo metadata --format-version 1 --locked --quiet |
    sed 's/{"name":"/\n&/g' |
    awk '
        match($0, /^\{"name":"[^"]*","version":"[^"]*","id":/) {
            split(substr($0, 10, RLENGTH - 16), nv, "\",\"version\":\"")
            package = nv[1] " " nv[2]
        }
        package != "" && match($0, /"rust_version":"[0-9.]+"/) {
            print substr($0, RSTART + 16, RLENGTH - 17), package
            package = ""
        }')
if [[ -z $locked ]]; then
    echo "error: read no rust_version from cargo metadata" >&2
    exit 1
fi

too_new=()
while read -r version name pkg_version; do
    newer "$version" "$declared" && too_new+=("$name $pkg_version needs Rust $version")
done <<<"$locked"
if ((${#too_new[@]})); then
    echo "Cargo.toml declares rust-version $declared, but the lock file holds:" >&2
    printf '  %s\n' "${too_new[@]}" >&2
    echo "Lock older versions (CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo update) or raise rust-version." >&2
    exit 1
fi
highest=$(cut -d' ' -f1 <<<"$locked" | sort -V | tail -n 1)
echo "lock file: $(wc -l <<<"$locked") packages declare a rust-version, the highest $highest <= $declared"

running=$(rustc --version | sed -n 's/^rustc \([0-9]*\.[0-9]*\.[0-9]*\).*/\1/p')
minor() { cut -d. -f1-2 <<<"$1"; }
if [[ $(minor "$running") == $(minor "$declared") ]] && ! newer "$declared" "$running"; then
    echo "toolchain: this run builds and tests with rustc $running, the declared release"
    exit 0
fi
toolchain=$(full "$declared")
if rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
    echo "toolchain: rustc $running runs CI; building and testing with $toolchain as well"
    cargo "+$toolchain" test --quiet --locked --all-features
    exit 0
fi
echo "Cargo.toml declares rust-version $declared, but CI runs rustc $running and Rust $toolchain is not installed:" >&2
echo "install it (rustup toolchain install $toolchain) or declare the release CI runs." >&2
exit 1
