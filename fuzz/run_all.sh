#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 20) with the RFC/quirk seeds and the IMAP
# dictionary. Prints libFuzzer's final stats per target.
# Memory: any single allocation above 16 MB is a finding (`-malloc_limit_mb`; the inputs are
# under 1 KB and every decoder bound is far below that, so such an allocation is a missing
# bound, as the empty-keyword loop in flag lists was). The RSS limit is libFuzzer's default
# 2 GB: the process's RSS is mostly AddressSanitizer's 256 MB quarantine, allocator caches and
# the corpus, and reached 450-710 MB on clean runs of 100,000 inputs, so a tighter limit fails
# by chance rather than on a defect.
# Usage: fuzz/run_all.sh [SECONDS | runs=N] [TARGET...]
# `runs=N` runs a fixed number of inputs from a fixed seed (no time limit): CI uses it so that
# the work done does not depend on the machine's speed. (Coverage still differs a little
# from run to run.)
# FUZZ_REPORT_ONLY="TARGET..." (space-separated): those targets run and print what they find
# like the others, but a crash in them does not make the script fail (a target whose findings
# are an open issue).
set -euo pipefail
report_only=" ${FUZZ_REPORT_ONLY:-} "
secs=${1:-20}
shift || true
cd "$(dirname "$0")"
python3 make_seeds.py >/dev/null
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  tc=(+nightly)
else
  tc=()
  export RUSTC_BOOTSTRAP=1
fi
cargo "${tc[@]}" fuzz build -O
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo "${tc[@]}" fuzz list)
fi
failed=()
reported=()
for t in "${targets[@]}"; do
  echo "=== $t ($secs)"
  mkdir -p "corpus/$t"
  log=$(mktemp)
  if [[ "$secs" == runs=* ]]; then
    limit=(-runs="${secs#runs=}" -seed=1)
  else
    limit=(-max_total_time="$secs")
  fi
  if cargo "${tc[@]}" fuzz run -O "$t" "corpus/$t" -- \
    "${limit[@]}" -rss_limit_mb=2048 -malloc_limit_mb=16 -dict=imap.dict -print_final_stats=1 >"$log" 2>&1; then
    grep -E '^(#[0-9]+.*DONE|stat::(number_of_executed_units|peak_rss_mb)|Done)' "$log" | tail -n 4
  else
    grep -E -A3 'panicked|SUMMARY|ERROR|Test unit written' "$log" | head -n 20
    if [[ "$report_only" == *" $t "* ]]; then reported+=("$t"); else failed+=("$t"); fi
  fi
  rm -f "$log"
done
if [ ${#reported[@]} -gt 0 ]; then
  echo "report-only fuzz targets that found a crash (not failing): ${reported[*]} (inputs in fuzz/artifacts/)"
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz targets that found a crash: ${failed[*]} (inputs in fuzz/artifacts/)"
  exit 1
fi
