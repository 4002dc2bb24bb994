#!/usr/bin/env bash
# Runs `dissect --roundtrip --strict` over every extension capture in extensions/ (written by
# make_extension_captures.py): each message must decode in the strict profile and re-encode to
# bytes that decode to the same value; `dissect --json` must print valid JSON for each within
# bounded memory. Fails if any capture reports a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

dir=examples/captures/extensions
cargo build --release --example dissect
# shellcheck source=../../.ci/lib.sh
. .ci/lib.sh
bin="$(cargo_target_dir)/release/examples/dissect"
tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
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
    # --json: one valid JSON object per message, in bounded memory (2 GB) and time.
    if ! (ulimit -v 2000000; timeout 60 "$bin" "$side" "$f" --json) >"$tmp" 2>/dev/null ||
        ! python3 -c 'import json, sys
for line in open(sys.argv[1]): json.loads(line)' "$tmp"; then
        printf '%-60s FAILED (--json)\n' "$f"
        head -c 2000 "$tmp"
        failed+=("$f")
        continue
    fi
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
