"""rulkit: the code of the companion book on gradient-aware multi-task learning
for Remaining-Useful-Life prediction on NASA's C-MAPSS turbofan data.

One module per concern, each named after what it holds. Module map: one line each,
what it holds; the book's chapters it serves (ch.); this book's notebooks (nb).

- ``data/``: the C-MAPSS data package below, re-exported as ``rulkit.data``; ch. 5-7; nb 01-03
- ``data.cmapss``: find, download and read the NASA files, with checks; ch. 5; nb 01
- ``data.prepare``: split, normalise, window, cap (``RUL_CAP``), health labels; ch. 6-7; nb 02-03
- ``data.synthetic``: a small synthetic fleet in C-MAPSS format, for tests and demos; nb 01-03
- ``model``: the DualTaskModel and the reference DCNN; ch. 8-11; nb 04, 11
- ``losses``: MSE, failure-weighted MSE, loss modules AMNL/GABA/GRACE; ch. 13-16; nb 04-05, 07-10
- ``balancing``: gradient norms, GABA and its defaults, the reference balancers; ch. 12, 17-23
- ``methods``: the method registry, and their display order, labels, colours; ch. 13-23; nb 08-10
- ``metrics``: RMSE, the NASA/PHM08 score, health-state metrics; ch. 13; nb 06, 08, 10
- ``config``: every knob of a run, the profiles, a run's name and label; ch. 15, 18, 22; nb 05-11
- ``train``: one run of one method on one subset, config to result; ch. 15, 18, 22; nb 05-12
- ``runs/``: long runs: checkpoints, locks, resume, time slices, sweeps; the "Running" page
- ``checkpoint``: moved to ``runs.checkpoint``, this path kept for one release; "Running"
- ``sweep``: moved to ``runs.sweep``, this path kept for one release; "Running", nb 12
- ``cli``: the ``rulkit`` command (train, sweep, status, report, fetch); the "Running" page
- ``__main__``: ``python -m rulkit``, the same command; the "Running" page
- ``results``: one JSON file per run, written atomically; results schema; nb 06, 08-12
- ``provenance``: where and with what a result was made (device, versions, commit); nb 12
- ``report``: tables and paragraphs from result files only; the results chapter; nb 06, 08-12
- ``plots``: figures from runs and result files; ch. 12-23, results chapter; nb 05-06, 08-10, 12
- ``published``: the book's and the literature's figures, kept apart; SPEC 8; nb 06, 08-12
- ``regimes``: deployment regimes, which method for a cost of lateness; ch. 13; nb 06, 10
- ``reference``: the NumPy oracle of AMNL/GABA/GRACE, worked example; sec. 13.4; nb 05, 07

``tests/test_module_map.py`` checks that this map names every module of the package.
"""

__version__ = "0.1.0"

from .data import fetch_cmapss, load_cmapss, prepare  # noqa: E402
from .model import DualTaskModel  # noqa: E402

__all__ = ["DualTaskModel", "fetch_cmapss", "load_cmapss", "prepare", "__version__"]
