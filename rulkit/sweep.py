"""Moved to :mod:`rulkit.runs.sweep`; this path is kept for one release."""

# moved to rulkit.runs.sweep; this path is kept for one release. The module object itself
# stands in for this one, so private names and monkeypatching keep working.
import sys

from .runs import sweep as _moved

sys.modules[__name__] = _moved
