#!/usr/bin/env bash
# Instruction counts (callgrind) of the decoder on fixed samples of the bench corpus, the
# stable figure on a shared VM (wall clock swings 20-40% between runs). Prints one line per
# sample: name and total instructions (process start-up and one copy of the input included).
#
#   benches/callgrind.sh [OUTDIR]       # default target/callgrind
#
# Samples: the first 1.3 MB of fetch-flags, 600 kB of fetch-headers, 400 kB of list and 1 MB of
# commands (a partial last message is cut off the same way on every run).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/callgrind}
mkdir -p "$out"
corpus=${IMAP_BENCH_CORPUS:-target/bench-corpus}
[ -f "$corpus/fetch-flags" ] || python3 benches/corpus/gen.py "$corpus" >/dev/null
cargo build --release --example profile_decode >/dev/null 2>&1 || cargo build --release --example profile_decode
# shellcheck source=.ci/lib.sh
. .ci/lib.sh
bin="$(cargo_target_dir)/release/examples/profile_decode"
sample() { head -c "$3" "$corpus/$1" > "$out/$1.sample"; }
sample fetch-flags response 1300000
sample fetch-headers response 600000
sample list response 400000
sample commands command 1000000
for s in "fetch-flags response" "fetch-headers response" "list response" "commands command"; do
  set -- $s
  valgrind --tool=callgrind --callgrind-out-file="$out/$1.out" "$bin" "$out/$1.sample" "$2" whole 1 >/dev/null 2>"$out/$1.log"
  total=$(grep -E '^(summary|totals):' "$out/$1.out" | head -1 | awk '{print $2}')
  printf '%-14s %s\n' "$1" "$total"
done
