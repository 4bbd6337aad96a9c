#!/usr/bin/env bash
# One call on a borrowed GPU machine that banks every minute (see README, "Full GPU results").
#
#   OUT=<folder that comes back> benchmarks/gpu_session.sh
#
# Everything happens inside WALL seconds counted from the start (default 540 of a 600-second
# call), the benchmark included:
# 1. the state of earlier calls (result files and checkpoints) is unpacked from CARRY_IN
#    (default .gpu/state: the caller copies the last call's state.tgz.* there);
# 2. environment and a short benchmark (step times; steady-state throughput of K concurrent
#    runs, which sets JOBS), cut short if it would eat into the training time;
# 3. `rulkit sweep` over the priority grid, seed-major: FD002 FD004 x baseline amnl gaba
#    grace x seeds, then FD001 FD003, then the reference methods. Its runs checkpoint at every
#    epoch end; the sweep stops starting runs in time, and those still running stop at an
#    epoch end (or on SIGTERM, within seconds) before the wall;
# 4. the state is packed into $OUT/state.tgz.NN (parts of at most 15 MiB, since a call hands
#    back at most 8 files of 16 MiB, 64 MiB in all): result files and logs always, then the
#    checkpoints of unfinished runs, most recently written first, as far as RETURN_MB (default 56)
#    allows; what did not fit is named in the log. A background loop re-packs every
#    BANK_SECONDS (default 60), so a call killed at any moment still returns its last bank.
#
# Next call: `mkdir -p .gpu/state && cat <files_at>/state.tgz.* | tar xzf - -C .gpu/state`,
# then the same command with `.gpu` carried. Results: `cp .gpu/state/*.json results/`.
#
# Knobs (environment): WALL, CARRY_IN, RETURN_MB, BANK_SECONDS, RESERVE (seconds kept for
# the last pack, default 45), BENCH (1 = benchmark, default 1), BENCH_SECONDS (its share,
# default 90), JOBS (fixed K; default from the benchmark, else 4), PROFILE (default full),
# SEEDS (default 0-4), GRID (priority | tiny: a CPU test of this script), EXTRA_SET (more
# `--set key=value` words for every run), RETRY_FAILED (1 = rerun runs that failed on memory
# or NaN), RULKIT_GIT_COMMIT (the commit of this copy, when it has no .git), PLAN (a file of
# sweeps that run AT THE SAME TIME instead of the grid, one a line:
# `subsets|methods|seeds|profile|jobs|--set k=v ...`; # starts a comment; the benchmark is
# skipped, since each line says its own jobs; see benchmarks/plans/).
set -uo pipefail
cd "$(dirname "$0")/.."
t_start=$(date +%s)
OUT=${OUT:-.scratch/gpu_out}
WALL=${WALL:-540}
CARRY_IN=${CARRY_IN:-.gpu/state}
RETURN_MB=${RETURN_MB:-56}
BANK_SECONDS=${BANK_SECONDS:-60}
RESERVE=${RESERVE:-45}
BENCH=${BENCH:-1}
BENCH_SECONDS=${BENCH_SECONDS:-90}
PROFILE=${PROFILE:-full}
SEEDS=${SEEDS:-0-4}
GRID=${GRID:-priority}
EXTRA_SET=${EXTRA_SET:-}
RETRY_FAILED=${RETRY_FAILED:-0}
PY=${PYTHON:-python3}
STATE=$(mktemp -d "${TMPDIR:-/tmp}/rulkit-state.XXXXXX")
LOG="$OUT/session.log"
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
# ../shared does not travel to the device machine: the caller copies the data to .gpu/.
if [ -z "${RULKIT_DATA_DIR:-}" ] && [ -d .gpu/CMAPSSData ]; then
  export RULKIT_DATA_DIR="$PWD/.gpu/CMAPSSData"
fi
left() { echo $(( WALL - ($(date +%s) - t_start) )); }
say() { echo "== [$(( $(date +%s) - t_start ))s] $*" | tee -a "$LOG"; }

# Pack the state into $OUT/state.tgz.NN: results and logs first, then checkpoints, most
# recently written first, while the total stays under RETURN_MB. Parts are written beside and
# renamed into place, so $OUT always holds one whole bank.
pack() {
  local list budget used f size tmp
  list=$(mktemp); tmp=$(mktemp -d "$OUT/.pack.XXXX")
  budget=$(( RETURN_MB * 1024 * 1024 ))
  (cd "$STATE" && find . -name '*.json' -o -path './logs/*' -type f) >"$list"
  used=$(cd "$STATE" && cat "$list" | xargs -r du -cb 2>/dev/null | tail -1 | cut -f1)
  used=${used:-0}
  for f in $(cd "$STATE" && ls -t checkpoints/*.pt 2>/dev/null); do
    size=$(stat -c %s "$STATE/$f" 2>/dev/null || echo 0)
    if [ $(( used + size )) -le "$budget" ]; then
      echo "./$f" >>"$list"; used=$(( used + size ))
    else
      echo "not returned (over RETURN_MB=$RETURN_MB): $f" >>"$tmp/dropped"
    fi
  done
  tar czf - -C "$STATE" -T "$list" 2>/dev/null | split -b 15m -d -a 2 - "$tmp/state.tgz."
  rm -f "$OUT"/state.tgz.* && mv "$tmp"/state.tgz.* "$OUT"/
  [ -f "$tmp/dropped" ] && cat "$tmp/dropped" >>"$LOG"
  rm -rf "$tmp" "$list"
}

# 1. state of earlier calls
mkdir -p "$STATE"
if [ -d "$CARRY_IN" ]; then cp -a "$CARRY_IN/." "$STATE/"; fi
say "state: $(ls "$STATE"/*.json 2>/dev/null | wc -l) result files, $(ls "$STATE"/checkpoints/*.pt 2>/dev/null | wc -l) checkpoints carried in"

# 2. environment and benchmark
{
  date -u +"%Y-%m-%dT%H:%M:%SZ"
  echo "commit: ${RULKIT_GIT_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  $PY -c "import torch, numpy; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'gpu', torch.cuda.get_device_name(0) if torch.cuda.is_available() else None, 'numpy', numpy.__version__)"
  echo "RULKIT_DATA_DIR=${RULKIT_DATA_DIR:-unset}"
} 2>&1 | tee -a "$LOG"
PLAN=${PLAN:-}
[ -n "$PLAN" ] && BENCH=0
if [ "$BENCH" = 1 ] && [ "$(left)" -gt $(( BENCH_SECONDS + RESERVE + 60 )) ]; then
  say "benchmark (at most ${BENCH_SECONDS}s)"
  timeout --signal=INT "$BENCH_SECONDS" $PY benchmarks/bench_training.py \
    --methods baseline amnl gaba grace grace:2 --rounds 3 --no-epoch \
    --jobs 1 2 4 8 --seconds 8 --best-jobs-file "$OUT/best_jobs" 2>&1 | tee -a "$LOG"
fi
JOBS=${JOBS:-$(cat "$OUT/best_jobs" 2>/dev/null || echo 4)}
rm -f "$OUT/best_jobs"
say "jobs: $JOBS"

# 3. the grid, banking in the background
( while sleep "$BANK_SECONDS"; do pack; done ) &
banker=$!
trap 'kill $banker 2>/dev/null' EXIT
if [ "$GRID" = tiny ]; then
  stages=("FD001|baseline grace")
else
  stages=("FD002 FD004|baseline amnl gaba grace"
          "FD001 FD003|baseline amnl gaba grace"
          "FD001 FD002 FD003 FD004|uncertainty gradnorm dwa")
fi
set_args=()
for kv in $EXTRA_SET; do set_args+=(--set "$kv"); done
[ "$RETRY_FAILED" = 1 ] && set_args+=(--retry-failed)
# A plan: every line its own sweep, all at once, each stopping before the wall.
run_plan() {
  local line subsets methods seeds profile jobs sets budget pids=()
  budget=$(( $(left) - RESERVE ))
  set -f  # the --set words hold [ ] and { }: no globbing
  while IFS='|' read -r subsets methods seeds profile jobs sets; do
    [ -z "${subsets// /}" ] || [ "${subsets#\#}" != "$subsets" ] && continue
    say "plan: $subsets x $methods x seeds $seeds, profile $profile, $jobs jobs, $sets (${budget}s)"
    # shellcheck disable=SC2086  # the --set words are split on purpose
    timeout --signal=TERM --kill-after=30 $(( budget + RESERVE / 2 )) \
      $PY -m rulkit sweep --subsets $subsets --methods $methods --seeds "$seeds" \
        --profile "$profile" --jobs "$jobs" --out "$STATE" --quiet \
        --max-minutes "$(awk -v s="$budget" 'BEGIN { printf "%.3f", s / 60 }')" $sets \
        "${set_args[@]}" >>"$LOG" 2>&1 &
    pids+=($!)
  done <"$PLAN"
  set +f
  wait "${pids[@]}"
}
[ -n "$PLAN" ] && { run_plan; stages=(); }
for stage in "${stages[@]}"; do
  subsets=${stage%%|*}; methods=${stage##*|}
  # The sweep's own limit ends its runs at an epoch end; the hard limit (SIGTERM: the runs
  # save within seconds) covers an epoch far longer than expected.
  budget=$(( $(left) - RESERVE ))
  if [ "$budget" -le 5 ]; then say "no time left for: $subsets x $methods"; continue; fi
  say "sweep: $subsets x $methods x seeds $SEEDS (${budget}s)"
  timeout --signal=TERM --kill-after=30 $(( budget + RESERVE / 2 )) \
    $PY -m rulkit sweep --subsets $subsets --methods $methods --seeds "$SEEDS" \
      --profile "$PROFILE" --jobs "$JOBS" --out "$STATE" --quiet \
      --max-minutes "$(awk -v s="$budget" 'BEGIN { printf "%.3f", s / 60 }')" "${set_args[@]}" \
      2>&1 | tee -a "$LOG"
done

# 4. the last bank
kill $banker 2>/dev/null; wait $banker 2>/dev/null
pack
done_runs=$(ls "$STATE"/*.json 2>/dev/null | wc -l)
say "done: $done_runs result files, $(ls "$STATE"/checkpoints/*.pt 2>/dev/null | wc -l) runs to continue; returned $(du -cb "$OUT"/state.tgz.* | tail -1 | cut -f1) bytes in $(ls "$OUT"/state.tgz.* | wc -l) parts"
rm -rf "$STATE"
