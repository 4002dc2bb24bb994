#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 20) with the RFC/quirk seeds and the IMAP
# dictionary, under a 512 MB RSS limit. Prints libFuzzer's final stats per target.
# Usage: fuzz/run_all.sh [SECONDS] [TARGET...]
set -euo pipefail
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
for t in "${targets[@]}"; do
  echo "=== $t (${secs}s)"
  mkdir -p "corpus/$t"
  cargo "${tc[@]}" fuzz run -O "$t" "corpus/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=512 -dict=imap.dict -print_final_stats=1 2>&1 \
    | grep -E '^(#[0-9]+.*(DONE|pulse)|stat::|Done|==[0-9]+==|SUMMARY|.*panicked)' | tail -n 8
done
