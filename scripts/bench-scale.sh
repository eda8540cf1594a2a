#!/usr/bin/env bash
# Peak memory and time of `semid build` on synthetic catalogs larger than its memory model's
# constant parts: for each SIZE (rows × dim) it writes a seeded clustered-Gaussian float32 .npy
# (scripts/synthetic-embeddings.py, by chunks), builds 3 levels of 1024, 256, 256 codes + suffix
# under /usr/bin/time -v, prints wall time, peak RSS, input size and items/s/core, then deletes
# the input. Then `semid bench encode` compares the encoder's GFLOP/s with one sgemm of the same
# shape. Prints Markdown tables for docs/scale.md and docs/benchmarks.md.
#
#   scripts/bench-scale.sh [SEMID_BINARY] [WORK_DIR] [SIZES...]     (make bench-scale)
#   SIZES default: 1000000x256 4000000x256 8000000x256 1000000x768
#
# Needs python3 with NumPy, /usr/bin/time, and free disk of 4·rows·dim bytes (8 GiB at 8M × 256).
# SCALE_FLAGS replaces the build flags; SEMID_BENCH_LOCK=FILE runs each build and the encode
# benchmark under `flock FILE` (machines whose builds share a lock).
set -euo pipefail
semid=${1:-.build/release/semid}
work=${2:-out/bench-scale}
shift $(( $# > 2 ? 2 : $# )) || true
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000000x256 4000000x256 8000000x256 1000000x768)
flags=${SCALE_FLAGS:---levels 3 --codebook-size 1024,256,256 --collisions suffix --seed 1}
mkdir -p "$work"
lock=${SEMID_BENCH_LOCK:+flock $SEMID_BENCH_LOCK}
cores=$(nproc)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "CPU: $cpu, $cores cores; semid build $flags"
echo
echo "| items × dim | input | wall time | peak RSS | peak RSS / input | items/s/core |"
echo "| --- | --- | --- | --- | --- | --- |"
for size in "${sizes[@]}"; do
  rows=${size%x*}; dim=${size#*x}
  input="$work/embeddings-$size.npy"
  python3 "$(dirname "$0")/synthetic-embeddings.py" --rows "$rows" --dim "$dim" --seed 1 --out "$input"
  bytes=$(stat -c %s "$input")
  # Warm the page cache the same way for every size (the build reads the file twice: sample, then all).
  cat "$input" > /dev/null
  log="$work/build-$size.log"
  # Under a pseudo-terminal (script) so the build prints its progress, with elapsed seconds per stage.
  script -qfec "$lock /usr/bin/time -v $semid build --embeddings $input $flags --out $work/index-$size.semid --force" "$log" > /dev/null
  tr '\r' '\n' < "$log" | grep -E '^(reading the training sample|level [0-9]+/[0-9]+ k-means [0-9]|encoding [0-9]+/[0-9]+ |resolving|writing the catalog [0-9]+/[0-9]+ |writing shards)' \
      | awk '{ stage=$0; sub(/ +[0-9]+\/[0-9]+.*/, "", stage); last[stage]=$0 } END { for (s in last) print "    " last[s] }' | sort > "$work/stages-$size.txt" || true
  rss_kb=$(tr -d '\r' < "$log" | grep 'Maximum resident set size' | awk '{print $NF}')
  wall=$(tr -d '\r' < "$log" | grep 'Elapsed (wall clock)' | awk '{print $NF}')
  seconds=$(python3 -c "p='$wall'.split(':'); print(sum(float(x)*60**i for i,x in enumerate(reversed(p))))")
  python3 - "$rows" "$dim" "$bytes" "$rss_kb" "$seconds" "$cores" <<'PY'
import sys
rows, dim, nbytes, rss_kb, seconds, cores = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
gib = 1 << 30
print(f"| {rows/1e6:g}M × {dim} | {nbytes/gib:.2f} GiB | {seconds:.0f} s | {rss_kb*1024/gib:.2f} GiB | {rss_kb*1024/nbytes:.2f}× | {rows/seconds/cores:,.0f} |")
PY
  cat "$work/stages-$size.txt" >&2
  rm -f "$input"
  rm -rf "$work/index-$size.semid"
done
echo
$lock "$semid" bench encode ${ENCODE_FLAGS:-}
