#!/usr/bin/env bash
# Checks the "Requirements and the tests that prove them" section of
# SECURITY.md against the code and against the requirements checklist.
#
#   scripts/check-security-table.sh        # from the repository root
#
# 1. Every backticked test reference in that section must resolve:
#      `tests/<file>.rs::<name>`          integration test
#      `tests/<dir>/<file>.rs::<name>`    a module of a folder test (e.g. the
#                                         adapter scenarios); <name> is the
#                                         function, whatever tests call it
#      `src/<file>.rs::<path>::<name>`    unit test, or a doctest named by
#                                         the function it documents
#      `fuzz/fuzz_targets/<target>.rs`    fuzz target
#      `interop/tests/<file>.rs::<name>`  test of the interop package
#    A reference with `::` needs the file and a `fn <name>` in it (<name> is
#    the last segment). A backticked path without `::` under tests/, src/,
#    fuzz/, interop/, examples/, deploy/, scripts/, benches/ or .ci/ must exist.
# 2. Every requirement id of the checklist (../shared/SECURITY_CHECKLIST.md,
#    or the file named by $SECURITY_CHECKLIST) must have a row in the
#    section's tables, and every row must name a checklist id or one of
#    this project's own requirements (ids R1, R2, …, listed under "R." in
#    SECURITY.md). Without a checklist only the references are checked.
#
# Exits 1 listing what is wrong; plain grep/sed/awk, no other dependency.
set -euo pipefail

security=SECURITY.md
heading='## Requirements and the tests that prove them'
checklist=${SECURITY_CHECKLIST:-../shared/SECURITY_CHECKLIST.md}
# Checklist sections whose items are a numbered list ("1. **Title.**")
# rather than bold ids ("**A1. ...**"); their items are <letter><number>.
numbered_groups=N

if [ ! -f "$security" ]; then
    echo "error: $security not found; run this from the repository root" >&2
    exit 2
fi

# The section runs from its heading to the next level-2 heading.
section=$(awk -v heading="$heading" '
    $0 == heading { inside = 1; next }
    inside && /^## / { exit }
    inside { print }
' "$security")
if [ -z "$section" ]; then
    echo "error: no \"$heading\" section in $security" >&2
    exit 1
fi

problems=()
references=0

refs=$(grep -o '`[^`]*`' <<<"$section" | sed 's/^`//; s/`$//' | sort -u || true)
while IFS= read -r ref; do
    [ -n "$ref" ] || continue
    case "$ref" in
    tests/*.rs::* | src/*.rs::* | fuzz/*.rs::* | interop/*.rs::*)
        references=$((references + 1))
        file=${ref%%::*}
        name=${ref##*::}
        if ! [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
            problems+=("$ref: \"$name\" is not a function name")
        elif [ ! -f "$file" ]; then
            problems+=("$ref: no file $file")
        elif ! grep -Eq "(^|[^A-Za-z0-9_])fn[[:space:]]+${name}([^A-Za-z0-9_]|\$)" "$file"; then
            problems+=("$ref: no fn $name in $file")
        fi
        ;;
    fuzz/fuzz_targets/*.rs)
        references=$((references + 1))
        [ -f "$ref" ] || problems+=("$ref: no such fuzz target")
        ;;
    tests/* | src/* | fuzz/* | interop/* | examples/* | deploy/* | scripts/* | benches/* | .ci/*)
        references=$((references + 1))
        [ -e "$ref" ] || problems+=("$ref: no such file")
        ;;
    esac
done <<<"$refs"

# First cell of every table row, without the header and separator rows.
rows=$(awk -F'|' '/^\|/ {
    id = $2
    gsub(/[[:space:]*]/, "", id)
    if (id != "" && id != "id" && id !~ /^[-:]+$/) print id
}' <<<"$section")

ids_checked=0
if [ -f "$checklist" ]; then
    ids=$(awk -v numbered="$numbered_groups" '
        /^## [A-Z]\. / { group = substr($2, 1, 1); next }
        /^## / { group = ""; next }
        match($0, /^\*\*[A-Z][0-9]+\./) { print substr($0, 3, RLENGTH - 3); next }
        group != "" && index(numbered, group) && match($0, /^[0-9]+\. \*\*/) {
            print group substr($0, 1, index($0, ".") - 1)
        }
    ' "$checklist" | sort -u)
    if [ -z "$ids" ]; then
        problems+=("$checklist: no requirement ids found")
    fi
    while IFS= read -r id; do
        [ -n "$id" ] || continue
        ids_checked=$((ids_checked + 1))
        grep -qxF "$id" <<<"$rows" || problems+=("$id: in $checklist but has no row")
    done <<<"$ids"
    while IFS= read -r row; do
        [ -n "$row" ] || continue
        [[ $row =~ ^R[0-9]+$ ]] && continue
        grep -qxF "$row" <<<"$ids" || problems+=("$row: has a row but is not in $checklist")
    done <<<"$(sort -u <<<"$rows")"
else
    echo "note: $checklist not found; checking the references only" >&2
fi

if [ "${#problems[@]}" -gt 0 ]; then
    echo "$security: ${#problems[@]} problem(s) in \"${heading#\#\# }\":" >&2
    printf '  %s\n' "${problems[@]}" >&2
    exit 1
fi
if [ "$ids_checked" -gt 0 ]; then
    echo "$security: $references references resolve; all $ids_checked checklist ids have a row"
else
    echo "$security: $references references resolve"
fi
