#!/usr/bin/env bash
# Builds the same indexes under every OpenBLAS kernel this CPU can run and under several thread
# counts, and counts the items whose semantic IDs differ from the first run: 0 everywhere for
# RQ-KMeans (any source, any policy, user IDs); for RQ-VAE, 0 across thread counts (its training
# follows the BLAS kernel's rounding, see docs/reproducibility.md).
#
#   scripts/bench-portable.sh [SEMID_BINARY]        (make bench-portable)
#
# It sets OPENBLAS_CORETYPE, OPENBLAS_NUM_THREADS and SEMID_NUM_THREADS for each child process
# only; your own settings are restored for everything else. Prints a Markdown table for
# docs/reproducibility.md. Needs python3 with NumPy to compare the exported IDs.
set -euo pipefail
semid=${1:-.build/release/semid}
data=Datasets/amazon-beauty
work=$(mktemp -d "${TMPDIR:-/tmp}/semid-portable-XXXXXX")
trap 'rm -rf "$work"' EXIT

flags=$(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2)
has() { for f in "$@"; do [[ " $flags " == *" $f "* ]] || return 1; done; }
kernels=(Prescott)
has sse4_2 && kernels+=(Nehalem)
has avx && kernels+=(Sandybridge)
has avx2 fma && kernels+=(Haswell Zen)
has avx512f avx512bw avx512dq avx512vl && kernels+=(SkylakeX)
has avx512f avx512bw avx512dq avx512vl avx512_bf16 && kernels+=(Cooperlake)

# name | build arguments (after --embeddings/--items) | then `semid users`?
configs=(
  "rq-kmeans 3×256 suffix|--levels 3 --codebook-size 256 --collisions suffix --seed 7|"
  "rq-kmeans 4×256 sinkhorn|--levels 4 --codebook-size 256 --collisions sinkhorn --seed 7|"
  "hybrid 3×256 suffix + user IDs|--source hybrid --sequences $data/sequences.tsv --levels 3 --codebook-size 256 --seed 7|users"
  "rq-vae 4×256 suffix, 10 epochs|--method rq-vae --levels 4 --codebook-size 256 --epochs 10 --seed 7|"
  "next-item model, 2 epochs (on rq-kmeans 3×256)|--levels 3 --codebook-size 256 --collisions suffix --seed 7|train"
)
# kernel:OPENBLAS_NUM_THREADS:SEMID_NUM_THREADS; the first is the reference.
runs=()
for k in "${kernels[@]}"; do runs+=("$k:2:2"); done
runs+=("${kernels[-1]}:1:1" "${kernels[-1]}:1:4" "${kernels[-1]}:2:1")

ids_differing() {  # reference.npy other.npy
  python3 -c 'import sys, numpy as np; a, b = np.load(sys.argv[1]), np.load(sys.argv[2]); print(int((a != b).any(axis=1).sum()) if a.shape == b.shape else "shape")' "$1" "$2"
}

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernels: ${kernels[*]}"
echo "semid: $("$semid" --version | head -1), fixed-order kernels: $("$semid" --version | sed -n 's/^fixed-order kernels (IDs): \([a-z0-9]*\).*/\1/p')"
echo
header="| configuration |"; rule="| --- |"
for r in "${runs[@]}"; do IFS=: read -r k t w <<< "$r"; header+=" $k, BLAS $t thr, $w workers |"; rule+=" --- |"; done
echo "Kernel columns compare with the first kernel's index; the thread columns with the ${kernels[-1]} 2/2 index."
echo
echo "$header"; echo "$rule"
for config in "${configs[@]}"; do
  IFS='|' read -r name args after <<< "$config"
  row="| $name |"
  ref=""
  last_kernel_ref="$work/${kernels[-1]}-2-2.semid"
  for r in "${runs[@]}"; do
    IFS=: read -r k t w <<< "$r"
    out="$work/$k-$t-$w.semid"
    rm -rf "$out"
    # shellcheck disable=SC2086
    OPENBLAS_CORETYPE=$k OPENBLAS_NUM_THREADS=$t SEMID_NUM_THREADS=$w \
      "$semid" build --embeddings $data/embeddings.npy --items $data/items.jsonl $args --out "$out" --quiet > /dev/null
    if [ "$after" = users ]; then
      OPENBLAS_CORETYPE=$k OPENBLAS_NUM_THREADS=$t SEMID_NUM_THREADS=$w \
        "$semid" users "$out" --sequences $data/sequences.tsv --quiet > /dev/null
    fi
    if [ "$after" = train ]; then
      OPENBLAS_CORETYPE=$k OPENBLAS_NUM_THREADS=$t SEMID_NUM_THREADS=$w \
        "$semid" train "$out" --sequences $data/sequences.tsv --embeddings $data/embeddings.npy --epochs 2 --seed 1 --quiet > /dev/null
    fi
    "$semid" export "$out" --format npy --out "$out.ids.npy" --force > /dev/null
    if [ -z "$ref" ]; then
      ref=$out; row+=" reference |"
      continue
    fi
    # Kernel runs compare with the first kernel; thread variants with the same kernel's 2/2 run.
    base=$ref
    [[ "$r" == "${kernels[-1]}:2:2" || "$k" != "${kernels[-1]}" ]] || base=$last_kernel_ref
    differing=$(ids_differing "$base.ids.npy" "$out.ids.npy")
    files=0
    for f in "$base"/*; do cmp -s "$f" "$out/$(basename "$f")" || files=$((files + 1)); done
    row+=" $differing IDs, $files files differ |"
  done
  echo "$row"
done
