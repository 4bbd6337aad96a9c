"""C-MAPSS data: download, loading, pre-processing and a synthetic fleet (chapters 5-7)."""

from .cmapss import (
    COLUMNS,
    SENSORS,
    SETTINGS,
    SUBSETS,
    CMAPSSDownloadError,
    CMAPSSFormatError,
    CMAPSSTables,
    default_data_dir,
    ensure_cmapss,
    fetch_cmapss,
    load_cmapss,
)
from .prepare import (
    DROPPED_SENSORS,
    HEALTH_CLASSES,
    KEPT_SENSORS,
    RUL_CAP,
    FittedState,
    Prepared,
    Split,
    health_labels,
    prepare,
    sliding_windows,
)
from .synthetic import synthetic_tables, write_cmapss_files

__all__ = [
    "COLUMNS", "SENSORS", "SETTINGS", "SUBSETS", "DROPPED_SENSORS", "HEALTH_CLASSES",
    "KEPT_SENSORS", "RUL_CAP", "CMAPSSDownloadError", "CMAPSSFormatError", "CMAPSSTables",
    "FittedState", "Prepared", "Split", "default_data_dir", "ensure_cmapss", "fetch_cmapss",
    "health_labels", "load_cmapss", "prepare", "sliding_windows", "synthetic_tables",
    "write_cmapss_files",
]  # fmt: skip
