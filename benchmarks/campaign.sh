#!/usr/bin/env bash
# The CPU campaign: the full recipe on FD001 for baseline, AMNL, GABA and GRACE, seed-major,
# into results/, in resumable slices, at low priority. Start it again after every stop
# (a reboot, the end of a working session): finished runs are skipped, the others continue
# from their checkpoints in results/checkpoints/ (ignored by git).
#
#   benchmarks/campaign.sh                 # in the foreground
#   nohup benchmarks/campaign.sh &         # in the background; progress in results/campaign.log
#   make campaign                          # the same, in the background
#   .venv/bin/rulkit status results         # where each run stands, and how long it needs at least
#
# Knobs (environment): PROFILE (default full; tuned for the recipe of book/training.md),
# SUBSETS (default FD001), METHODS (default baseline amnl gaba grace),
# SEEDS (default 0-2), JOBS (runs at a time, default 2, one core each),
# SLICE_MINUTES (each sweep stops at the first epoch end after this, default 120; the loop
# then starts the next slice), RESULTS_DIR (default results), CODE (a checkout of rulkit to
# run, default this one: point it at a fixed commit so that edits to the working tree never
# reach a running campaign), PYTHON (default .venv/bin/python), AUTOGROUP_NICE (see below).
#
# `nice -n 19` lowers the campaign against processes of its own session. On Linux with
# autogroup scheduling (/proc/sys/kernel/sched_autogroup_enabled = 1) a background session
# still gets a fair share against other sessions; AUTOGROUP_NICE=19 lowers the whole session
# too, so the campaign only uses cores nobody else wants. The script then starts its own
# session first (setsid), so that it lowers itself and not the shell that started it, and
# every training run keeps that niceness (`rulkit sweep` copies it into each run's session).
set -uo pipefail
if [ -n "${AUTOGROUP_NICE:-}" ] && [ -z "${CAMPAIGN_OWN_SESSION:-}" ] && command -v setsid >/dev/null; then
  CAMPAIGN_OWN_SESSION=1 exec setsid --wait "$0" "$@"
fi
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-0-2}
PROFILE=${PROFILE:-full}
SUBSETS=${SUBSETS:-FD001}
METHODS=${METHODS:-baseline amnl gaba grace}
JOBS=${JOBS:-2}
SLICE_MINUTES=${SLICE_MINUTES:-120}
RESULTS_DIR=$(mkdir -p "${RESULTS_DIR:-results}" && cd "${RESULTS_DIR:-results}" && pwd)
CODE=$(cd "${CODE:-$PWD}" && pwd)
PY=${PYTHON:-$PWD/.venv/bin/python}
LOG="$RESULTS_DIR/campaign.log"
export PYTHONPATH="$CODE${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
# `python -m` imports from the current folder first: run from CODE, so that the sweep
# and its children train with CODE's rulkit, not with whatever this checkout holds.
cd "$CODE"
if [ -n "${AUTOGROUP_NICE:-}" ] && [ -w /proc/self/autogroup ]; then
  echo "$AUTOGROUP_NICE" >/proc/$$/autogroup
fi

while true; do
  echo "== $(date -u +%FT%TZ) slice of ${SLICE_MINUTES} min, profile $PROFILE, $SUBSETS, code $(git -C "$CODE" rev-parse --short HEAD 2>/dev/null)" >>"$LOG"
  # shellcheck disable=SC2086  # SUBSETS and METHODS are lists
  nice -n 19 "$PY" -m rulkit sweep --subsets $SUBSETS --methods $METHODS \
    --seeds "$SEEDS" --profile "$PROFILE" --device cpu --jobs "$JOBS" --out "$RESULTS_DIR" \
    --max-minutes "$SLICE_MINUTES" --set record_test_rmse=true --quiet >>"$LOG" 2>&1
  status=$?
  # 0: the grid is done; 75: stopped for time (start the next slice); anything else: stop.
  [ "$status" -eq 75 ] || { echo "== $(date -u +%FT%TZ) sweep exited with $status" >>"$LOG"; exit "$status"; }
done
