#!/usr/bin/env bash
# The one command a session with a GPU runs (see README, "Full GPU results").
#
#   benchmarks/gpu_session.sh            # on the GPU machine, from the repository root
#
# 1. prints the environment (GPU, torch, CUDA) and a brief benchmark;
# 2. runs `rulkit sweep` over the priority grid, seed-major, inside a time budget:
#      FD002 FD004 x baseline amnl gaba grace x seeds 0-4, then FD001 FD003 x the same,
#      then all four subsets x uncertainty gradnorm dwa;
# 3. packs the result files into $OUT/results.tgz (the device tool returns files under $OUT).
# Rerunning continues where it stopped: runs whose result file exists are skipped.
#
# Knobs (environment): BUDGET_MINUTES (sweep time, default 6.5), JOBS (runs at a time;
# default: the fastest K of the benchmark, else 4), PROFILE (default full), SEEDS (default 0-4), RESULTS_DIR (default results),
# BENCH (1 = run the benchmark, default 1), GRID (priority | tiny; tiny = a CPU test of this
# script), EXTRA_SET (more `--set key=value` words for every run).
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
OUT=${OUT:-.scratch/gpu_out}
mkdir -p "$OUT"
RESULTS_DIR=${RESULTS_DIR:-results}
BUDGET_MINUTES=${BUDGET_MINUTES:-6.5}
JOBS_FIXED=${JOBS:-}
PROFILE=${PROFILE:-full}
SEEDS=${SEEDS:-0-4}
GRID=${GRID:-priority}
BENCH=${BENCH:-1}
EXTRA_SET=${EXTRA_SET:-}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
# ../shared does not travel to the device machine: the caller copies the data to .gpu/.
if [ -z "${RULKIT_DATA_DIR:-}" ] && [ -d .gpu/CMAPSSData ]; then
  export RULKIT_DATA_DIR="$PWD/.gpu/CMAPSSData"
fi
PY=${PYTHON:-python3}

{
  echo "== environment"
  date -u +"%Y-%m-%dT%H:%M:%SZ"
  git rev-parse HEAD 2>/dev/null || echo "no git"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  $PY -c "import torch, numpy; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'cudnn', torch.backends.cudnn.version(), 'gpu', torch.cuda.get_device_name(0) if torch.cuda.is_available() else None, 'numpy', numpy.__version__)"
  echo "RULKIT_DATA_DIR=${RULKIT_DATA_DIR:-unset}"
} 2>&1 | tee "$OUT/env.txt"

if [ "$BENCH" = 1 ]; then
  echo "== benchmark"
  $PY benchmarks/bench_training.py --methods baseline amnl gaba grace grace:2 --rounds 5 \
      --jobs 1 2 4 8 --epochs 2 --best-jobs-file "$OUT/best_jobs" 2>&1 | tee "$OUT/bench.txt"
fi
# Runs at a time: JOBS if given, else the K the benchmark just measured as fastest, else 4.
JOBS=${JOBS_FIXED:-$(cat "$OUT/best_jobs" 2>/dev/null || echo 4)}
echo "== jobs: $JOBS"

if [ "$GRID" = tiny ]; then
  stages=("FD001|baseline grace")
else
  stages=("FD002 FD004|baseline amnl gaba grace"
          "FD001 FD003|baseline amnl gaba grace"
          "FD001 FD002 FD003 FD004|uncertainty gradnorm dwa")
fi
set_args=()
for kv in $EXTRA_SET; do set_args+=(--set "$kv"); done

budget_s=$(awk -v m="$BUDGET_MINUTES" 'BEGIN { printf "%d", m * 60 }')
sweep_start=$(date +%s)
for stage in "${stages[@]}"; do
  subsets=${stage%%|*}; methods=${stage##*|}
  left=$(( budget_s - ( $(date +%s) - sweep_start ) ))
  if [ "$left" -le 30 ]; then echo "== budget spent; skipping: $subsets x $methods"; continue; fi
  echo "== sweep: $subsets x $methods x seeds $SEEDS (${left}s left)"
  # The sweep starts no run that would overrun its budget; the hard timeout (SIGINT:
  # the sweep stops its children cleanly) guards against a run far longer than any before.
  timeout --signal=INT --kill-after=20 $(( left + 60 )) \
    $PY -m rulkit sweep --subsets $subsets --methods $methods --seeds "$SEEDS" \
      --profile "$PROFILE" --jobs "$JOBS" --out "$RESULTS_DIR" --quiet \
      --budget-minutes "$(awk -v s="$left" 'BEGIN { printf "%.2f", s / 60 }')" "${set_args[@]}"
done 2>&1 | tee "$OUT/sweep.log"

tar czf "$OUT/results.tgz" -C "$RESULTS_DIR" $(cd "$RESULTS_DIR" && ls *.json 2>/dev/null) logs 2>/dev/null
echo "== done in $(( $(date +%s) - start )) s; $(ls "$RESULTS_DIR"/*.json 2>/dev/null | wc -l) result files in $RESULTS_DIR"
