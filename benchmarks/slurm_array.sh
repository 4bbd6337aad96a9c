#!/usr/bin/env bash
# A Slurm job array that works through one rulkit grid: one array task per GPU, all
# sharing the results folder. Slurm schedules and preempts; rulkit adds only the run lock
# (every run is trained once, by whichever task takes it first) and the checkpoint (a
# preempted run continues where it stopped, in any task).
#
#   sbatch --array=0-7 benchmarks/slurm_array.sh            # 8 workers on one grid
#   RESULTS=/shared/rulkit-results SEEDS=0-4 sbatch --array=0-3 benchmarks/slurm_array.sh
#
# --signal=B:TERM@120 asks Slurm to send SIGTERM to this script 120 s before the time
# limit; `exec` below makes the sweep this script's process, so the sweep receives it,
# passes it to its runs, and they save a checkpoint and stop (exit status 75). A
# preemption (or `scancel --signal=TERM`) does the same. --requeue puts a preempted task
# back in the queue; a task that finds every run done or taken exits at once.
#
# Knobs (environment, passed through by sbatch): RESULTS (shared folder, default results),
# SUBSETS (default "FD002 FD004"), METHODS (default "baseline amnl gaba grace"), SEEDS
# (default 0-4), PROFILE (default full), DEVICE (default auto), JOBS (runs at a time in one
# task, default 1), SWEEP_ARGS (more sweep options, e.g. "--set max_epochs=50"), RULKIT
# (the command, default rulkit).
#SBATCH --job-name=rulkit-grid
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --time=08:00:00
#SBATCH --signal=B:TERM@120
#SBATCH --requeue
#SBATCH --output=slurm-%A_%a.out
set -u
RESULTS=${RESULTS:-results}
# shellcheck disable=SC2086  # the lists and SWEEP_ARGS are meant to split into words
exec ${RULKIT:-rulkit} sweep --subsets ${SUBSETS:-FD002 FD004} \
  --methods ${METHODS:-baseline amnl gaba grace} --seeds "${SEEDS:-0-4}" \
  --profile "${PROFILE:-full}" --device "${DEVICE:-auto}" --jobs "${JOBS:-1}" \
  --out "$RESULTS" --quiet ${SWEEP_ARGS:-}
