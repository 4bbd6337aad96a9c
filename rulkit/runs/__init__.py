"""Long runs: checkpoints, locks, signals, time slices, resume and sweeps (the book's
"Running" page). The loop they drive is the teaching core, :mod:`rulkit.train`; this
package imports the core and the core never imports it."""

from .resumable import RunStopped, checkpoint_path, completed_result, lock_path, train_run

__all__ = ["RunStopped", "checkpoint_path", "completed_result", "lock_path", "train_run"]
