"""rulkit: the code of the companion book on gradient-aware multi-task learning
for Remaining-Useful-Life prediction on NASA's C-MAPSS turbofan data.

One module per concern, each named after what it holds:
``data`` (chapters 5-7), ``model`` (8-11), ``losses`` (13-16, AMNL),
``balancing`` (12, 17-21, GABA and the reference methods), ``methods`` (the
seven methods), ``metrics`` (13), ``config`` and ``train`` (15, 18, 22),
``checkpoint`` and ``sweep`` (runs that survive interruption, many workers),
``report``/``plots`` (the results chapter) and ``reference`` (the NumPy oracle).
"""

__version__ = "0.1.0"

from .data import fetch_cmapss, load_cmapss, prepare  # noqa: E402
from .model import DualTaskModel  # noqa: E402

__all__ = ["DualTaskModel", "fetch_cmapss", "load_cmapss", "prepare", "__version__"]
