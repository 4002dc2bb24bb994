#!/usr/bin/env bash
# Runs `dissect --roundtrip --strict` over every extension capture in extensions/ (written by
# make_extension_captures.py): each message must decode in the strict profile and re-encode to
# bytes that decode to the same value. Fails if any capture reports a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

dir=examples/captures/extensions
cargo build --release --example dissect
shopt -s nullglob
files=("$dir"/*.imap)
if [ ${#files[@]} -eq 0 ]; then
    echo "no captures in $dir" >&2
    exit 1
fi
failed=()
for f in "${files[@]}"; do
    case "$f" in
        *.client.imap) side=--client ;;
        *.server.imap) side=--server ;;
        *) echo "unexpected file $f" >&2; exit 1 ;;
    esac
    if out=$(cargo run --quiet --release --example dissect -- "$side" "$f" --roundtrip --strict 2>&1); then
        printf '%-60s %s\n' "$f" "$(tail -n 1 <<<"$out")"
    else
        printf '%-60s FAILED\n' "$f"
        grep -E 'FAILED' <<<"$out" | head -n 20 || true
        tail -n 1 <<<"$out"
        failed+=("$f")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "${#failed[@]} of ${#files[@]} extension captures have failures:" >&2
    printf '  %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "all ${#files[@]} extension captures decode and round-trip"
