#!/usr/bin/env bash
# Time and size of `semid report` (docs/benchmarks.md, "HTML report"): for the bundled Beauty index
# with its model (per-item errors recomputed from the embeddings), for that index compared with a
# fresh 4×256 sinkhorn index of the same items, and for a 1M-item synthetic index (64-d, a mixture
# of 2,000 Gaussian clusters of Zipf-like sizes, so code usage is uneven as in real catalogs).
# Best of 3 report runs each; the 1M embeddings and index are made once in the work folder.
#
#   scripts/bench-report.sh [SEMID_BINARY] [PYTHON_WITH_NUMPY] [WORK_DIR]     (make bench-report)
set -euo pipefail
semid=${1:-.build/release/semid}
python=${2:-python3}
work=${3:-out/bench-report}
data=Datasets/amazon-beauty
mkdir -p "$work"

best_of_3() {  # out.html command…: prints "seconds bytes"
  local out=$1; shift
  local best=
  for _ in 1 2 3; do
    local start end
    start=$(date +%s.%N)
    "$@" --out "$out" --force --quiet >/dev/null
    end=$(date +%s.%N)
    best=$(awk -v a="$best" -v s="$start" -v e="$end" 'BEGIN { t = e - s; if (a == "" || t < a) a = t; printf "%.2f", a }')
  done
  echo "$best $(stat -c %s "$out")"
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
      --seed 7 --out "$work/synthetic-1m.semid" --force --quiet
fi
if [ ! -f "$work/beauty-4x256-sinkhorn.semid/manifest.json" ]; then
  "$semid" build --embeddings $data/embeddings.npy --items $data/items.jsonl --levels 4 --codebook-size 256 \
      --collisions sinkhorn --seed 7 --out "$work/beauty-4x256-sinkhorn.semid" --force --quiet
fi

echo "| report | items | size | time (best of 3) |"
echo "| --- | ---: | ---: | ---: |"
row() {  # label items seconds bytes
  awk -v l="$1" -v n="$2" -v t="$3" -v b="$4" 'BEGIN { printf "| %s | %s | %.0f kB | %.2f s |\n", l, n, b / 1024, t }'
}
read -r t b < <(best_of_3 "$work/bundled.html" "$semid" report Codebooks/beauty.semid --embeddings $data/embeddings.npy)
row "bundled Beauty index + model, errors recomputed (\`--embeddings\`)" "12,101" "$t" "$b"
read -r t b < <(best_of_3 "$work/compare.html" "$semid" report Codebooks/beauty.semid --compare "$work/beauty-4x256-sinkhorn.semid" \
    --embeddings $data/embeddings.npy)
row "bundled index \`--compare\` 4×256 sinkhorn (errors stored)" "2 × 12,101" "$t" "$b"
read -r t b < <(best_of_3 "$work/synthetic-1m.html" "$semid" report "$work/synthetic-1m.semid")
row "synthetic 3×256 suffix, 64-d (errors stored)" "1,000,000" "$t" "$b"
