#!/usr/bin/env bash
# The decoder's instruction counts (benches/callgrind.sh: callgrind, repeatable whatever else
# the machine does) stay under their ceilings: the counts of b5e66ad plus 2%. A change that
# makes a sample dearer fails here; one that makes it cheaper may lower its ceiling (say so in
# the commit and in docs/DESIGN.md). Counts depend on the toolchain: after a rustc upgrade,
# re-measure and move the ceilings with the commit that says so.
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A ceiling=(
  [fetch-flags]=31152000    # 30,541,160 + 2% (s14: one call from the receiver's loop to the keyword, LF position per 8-byte half; was 31,622,341 + 2%)
  [fetch-headers]=7338000   # 7,193,405 + 2% (session 16: envelope addresses in one pass, body encodings, TEXT word, extension tails, parameter pairs and tags in one step; was 8,091,216 + 2%)
  [list]=5568000            # 5,458,376 + 2% (s14: LIST attributes by a 4-letter hash, complete quiet-literal messages read in place, one call to the keyword; was 6,382,595 + 2%)
  [commands]=10477000       # 10,271,295 + 2% (session 15: sequence-set numbers, FETCH item names, SEARCH dates, STATUS names; was 11,066,793 + 2%)
)
out=$(bash benches/callgrind.sh)
echo "$out"
fail=0
while read -r name total; do
  max=${ceiling[$name]:-}
  if [ -z "$max" ]; then
    echo "callgrind: no ceiling for sample $name" >&2
    fail=1
  elif [ "$total" -gt "$max" ]; then
    echo "callgrind: $name $total instructions, over its ceiling $max" >&2
    fail=1
  fi
done <<<"$out"
[ "$(wc -l <<<"$out")" -eq "${#ceiling[@]}" ] || { echo "callgrind: expected ${#ceiling[@]} samples" >&2; fail=1; }
exit $fail
