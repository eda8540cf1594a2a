#!/usr/bin/env bash
# Time and size of `semid report` (docs/benchmarks.md, "HTML report"): for the bundled Beauty index
# with its model (per-item errors recomputed from the embeddings), for that index compared with a
# fresh 4×256 sinkhorn index of the same items, and for a 1M-item synthetic index (64-d, a mixture
# of 2,000 Gaussian clusters of Zipf-like sizes, so code usage is uneven as in real catalogs).
# Best of 3 runs each, next to `semid inspect` of the same index; the 1M embeddings and index are made once in the work folder.
#
#   scripts/bench-report.sh [SEMID_BINARY] [PYTHON_WITH_NUMPY] [WORK_DIR]     (make bench-report)
set -euo pipefail
semid=${1:-.build/release/semid}
python=${2:-python3}
work=${3:-out/bench-report}
data=Datasets/amazon-beauty
mkdir -p "$work"

best_of_3() {  # command…: prints "best-seconds peak-kB" (peak resident memory from GNU time)
  local best= peak=0
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null
    read -r t m < "$work/time.txt"
    best=$(awk -v a="$best" -v t="$t" 'BEGIN { if (a == "" || t < a) a = t; printf "%.2f", a }')
    [ "$m" -gt "$peak" ] && peak=$m
  done
  echo "$best $peak"
}

if [ ! -f "$work/synthetic-1m-64.npy" ]; then
  echo "writing 1M × 64 synthetic embeddings to $work (once)" >&2
  "$python" - "$work/synthetic-1m-64.npy" <<'EOF'
import sys
import numpy as np
rng = np.random.default_rng(0)
n, d, k = 1_000_000, 64, 2000
centres = rng.normal(size=(k, d)).astype(np.float32)
weights = 1.0 / np.arange(1, k + 1) ** 0.8
labels = rng.choice(k, size=n, p=weights / weights.sum())
scales = rng.uniform(0.2, 0.8, size=(k, 1)).astype(np.float32)
x = centres[labels] + scales[labels] * rng.normal(size=(n, d)).astype(np.float32)
np.save(sys.argv[1], x.astype(np.float32))
EOF
fi
if [ ! -f "$work/synthetic-1m.semid/manifest.json" ]; then
  echo "building the 1M-item index (once)" >&2
  "$semid" build --embeddings "$work/synthetic-1m-64.npy" --levels 3 --codebook-size 256 --collisions suffix \
      --seed 7 --out "$work/synthetic-1m.semid" --force --quiet > "$work/build.log"
fi
if [ ! -f "$work/beauty-4x256-sinkhorn.semid/manifest.json" ]; then
  "$semid" build --embeddings $data/embeddings.npy --items $data/items.jsonl --levels 4 --codebook-size 256 \
      --collisions sinkhorn --seed 7 --out "$work/beauty-4x256-sinkhorn.semid" --force --quiet >> "$work/build.log"
fi

# Each report next to `semid inspect` of its first index (the same open and checksum verification,
# text output only), measured in the same run.
echo "| report | items | size | report: time, peak memory | \`semid inspect\`: time, peak memory |"
echo "| --- | ---: | ---: | ---: | ---: |"
measure() {  # label items html first-index report-arguments…
  local label=$1 items=$2 html=$3 first=$4; shift 4
  read -r t m < <(best_of_3 "$semid" report "$first" "$@" --out "$html" --force --quiet)
  read -r ti mi < <(best_of_3 "$semid" inspect "$first")
  awk -v l="$label" -v n="$items" -v b="$(stat -c %s "$html")" -v t="$t" -v m="$m" -v ti="$ti" -v mi="$mi" \
    'BEGIN { printf "| %s | %s | %.0f kB | %.2f s, %.0f MB | %.2f s, %.0f MB |\n", l, n, b / 1024, t, m / 1024, ti, mi / 1024 }'
}
measure "bundled Beauty index + model, errors recomputed (\`--embeddings\`)" "12,101" "$work/bundled.html" \
    Codebooks/beauty.semid --embeddings $data/embeddings.npy
measure "bundled index \`--compare\` a 4×256 sinkhorn index (errors stored)" "2 × 12,101" "$work/compare.html" \
    Codebooks/beauty.semid --compare "$work/beauty-4x256-sinkhorn.semid" --embeddings $data/embeddings.npy
measure "synthetic 3×256 suffix, 64-d (errors stored)" "1,000,000" "$work/synthetic-1m.html" "$work/synthetic-1m.semid"
