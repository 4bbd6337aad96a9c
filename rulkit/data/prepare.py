"""From raw C-MAPSS tables to model-ready windows (book chapters 6 and 7).

The pipeline, in the order :func:`prepare` runs it:

1. split the training engines into train and validation engines (seeded);
2. keep 14 sensors (+ the 3 operating settings, so F = 17 by default);
3. find the operating conditions with k-means on the settings of the TRAIN engines;
4. z-score each sensor within its condition, statistics from the TRAIN engines only;
5. cut windows of 30 cycles whose target is the RUL at their last cycle, capped at 125;
6. label each window normal / degrading / critical from that capped RUL.

Every statistic that is fitted lives in :class:`FittedState`, which is saved as
JSON so a reader can open it and check it holds nothing from the test engines.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .cmapss import SENSORS, SETTINGS, CMAPSSTables, check_subset, load_cmapss

# Constant or near-constant on FD001/FD003, so they carry no degradation signal (chapter 5).
DROPPED_SENSORS = ("s_1", "s_5", "s_6", "s_10", "s_16", "s_18", "s_19")
KEPT_SENSORS = tuple(s for s in SENSORS if s not in DROPPED_SENSORS)
N_CONDITIONS = {"FD001": 1, "FD002": 6, "FD003": 1, "FD004": 6}
HEALTH_CLASSES = ("normal", "degrading", "critical")
#: The RUL cap in cycles (SPEC section 2): targets and test truth are capped here, and every
#: default ``rul_cap`` of the package (config, losses) and the model's start point are this.
RUL_CAP = 125.0
STD_FLOOR = 1e-6  # a sensor that is constant within a condition is left unscaled


def health_labels(rul_capped: np.ndarray, thresholds: tuple[float, float] = (80, 30)) -> np.ndarray:
    """0 normal if y > 80, 1 degrading if 30 < y <= 80, 2 critical if y <= 30."""
    upper, lower = thresholds
    y = np.asarray(rul_capped)
    return np.where(y > upper, 0, np.where(y > lower, 1, 2)).astype(np.int64)


def train_rul(frame: pd.DataFrame) -> np.ndarray:
    """Cycles left until each training engine's last recorded cycle."""
    last = frame.groupby("unit")["cycle"].transform("max")
    return (last - frame["cycle"]).to_numpy(dtype=np.float64)


def split_engines(
    units: np.ndarray, val_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Hold out a seeded ``val_fraction`` of the engines (whole engines, never rows)."""
    units = np.unique(units)
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    n_val = int(round(val_fraction * len(units)))
    if val_fraction > 0 and (n_val == 0 or n_val == len(units)):
        raise ValueError(f"cannot hold out {val_fraction:.0%} of {len(units)} engines")
    shuffled = np.random.default_rng(seed).permutation(units)
    return np.sort(shuffled[n_val:]), np.sort(shuffled[:n_val])


@dataclass
class FittedState:
    """Everything :func:`prepare` learned from the training engines (JSON-serialisable)."""

    subset: str
    feature_names: list[str]
    sensors: list[str]
    use_settings: bool
    centroids: list[list[float]]  # (n_conditions, 3), sorted so condition ids are stable
    sensor_mean: list[list[float]]  # (n_conditions, n_sensors)
    sensor_std: list[list[float]]
    setting_mean: list[float]
    setting_std: list[float]
    train_units: list[int]
    val_units: list[int]
    window: int
    rul_cap: float
    health_thresholds: tuple[float, float]
    seed: int

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def assign_conditions(self, settings: np.ndarray) -> np.ndarray:
        """Index of the nearest centroid for each row of operating settings."""
        centroids = np.asarray(self.centroids)
        dist = ((settings[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=-1)
        return dist.argmin(axis=1)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Normalised feature matrix (rows, F): settings then kept sensors."""
        settings = frame[SETTINGS].to_numpy(np.float64)
        cond = self.assign_conditions(settings)
        sensors = frame[self.sensors].to_numpy(np.float64)
        sensors = (sensors - np.asarray(self.sensor_mean)[cond]) / np.asarray(self.sensor_std)[cond]
        if not self.use_settings:
            return sensors.astype(np.float32)
        settings = (settings - np.asarray(self.setting_mean)) / np.asarray(self.setting_std)
        return np.hstack([settings, sensors]).astype(np.float32)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    def save(self, path: str | os.PathLike) -> None:
        Path(path).write_text(self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike) -> FittedState:
        data = json.loads(Path(path).read_text())
        data["health_thresholds"] = tuple(data["health_thresholds"])
        return cls(**data)


def fit_state(
    train: pd.DataFrame,
    subset: str,
    *,
    n_conditions: int,
    use_settings: bool = True,
    sensors: tuple[str, ...] = KEPT_SENSORS,
    seed: int = 0,
    **meta,
) -> FittedState:
    """Fit conditions and normalisation statistics on the rows of ``train`` only."""
    from sklearn.cluster import KMeans

    settings = train[SETTINGS].to_numpy(np.float64)
    if n_conditions == 1:
        centroids = settings.mean(axis=0, keepdims=True)
    else:
        km = KMeans(n_clusters=n_conditions, n_init=10, random_state=seed).fit(settings)
        centroids = km.cluster_centers_
    centroids = centroids[np.lexsort(centroids.T[::-1])]  # stable order: by setting_1, 2, 3
    state = FittedState(
        subset=subset,
        feature_names=([*SETTINGS] if use_settings else []) + list(sensors),
        sensors=list(sensors),
        use_settings=use_settings,
        centroids=centroids.tolist(),
        sensor_mean=[],
        sensor_std=[],
        setting_mean=settings.mean(axis=0).tolist(),
        setting_std=np.where(settings.std(axis=0) < STD_FLOOR, 1.0, settings.std(axis=0)).tolist(),
        seed=seed,
        **meta,
    )
    cond = state.assign_conditions(settings)
    values = train[list(sensors)].to_numpy(np.float64)
    mean = np.stack([values[cond == c].mean(axis=0) for c in range(n_conditions)])
    std = np.stack([values[cond == c].std(axis=0) for c in range(n_conditions)])
    state.sensor_mean = mean.tolist()
    state.sensor_std = np.where(std < STD_FLOOR, 1.0, std).tolist()
    return state


def engine_bounds(units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start row and length of each engine's block in a unit-sorted table."""
    change = np.flatnonzero(np.diff(units)) + 1
    starts = np.concatenate([[0], change])
    lengths = np.diff(np.concatenate([starts, [len(units)]]))
    return starts, lengths


def sliding_windows(
    features: np.ndarray, units: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray]:
    """All windows of ``window`` consecutive rows inside one engine (stride 1).

    Returns the windows (N, window, F) and the index of each window's last row.
    Vectorised: one strided view of the whole table, then a fancy-index of the
    start rows whose window does not cross an engine boundary.
    """
    if len(units) < window:
        return np.empty((0, window, features.shape[1]), features.dtype), np.empty(0, np.int64)
    starts, lengths = engine_bounds(units)
    counts = np.maximum(lengths - window + 1, 0)
    first = np.repeat(starts, counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    window_starts = first + offset
    view = np.lib.stride_tricks.sliding_window_view(features, window, axis=0)  # (R-w+1, F, w)
    return view[window_starts].transpose(0, 2, 1), window_starts + window - 1


def subtract_engine_baseline(features: np.ndarray, units: np.ndarray, cycles: int) -> np.ndarray:
    """Each engine's features minus their mean over its own first ``cycles`` rows.

    Engines start healthy but not identical: their healthy levels differ by about a
    fifth of the whole healthy-to-failure shift. Subtracting them leaves the drift.
    """
    starts, lengths = engine_bounds(units)
    n = np.minimum(lengths, cycles)
    sums = np.stack([features[a : a + k].sum(axis=0) for a, k in zip(starts, n)])
    return features - np.repeat(sums / n[:, None], lengths, axis=0)


def last_windows(
    features: np.ndarray, units: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray]:
    """One window per engine ending at its last row; short engines are padded
    at the front by repeating their first row. Returns windows and engine lengths."""
    starts, lengths = engine_bounds(units)
    ends = starts + lengths  # exclusive
    # row index for each (engine, position); positions before the engine's start clamp to it
    rows = ends[:, None] - window + np.arange(window)[None, :]
    rows = np.maximum(rows, starts[:, None])
    return features[rows], lengths


@dataclass
class Split:
    """Windows of one split: inputs, RUL targets (capped) and health labels."""

    X: np.ndarray  # (N, window, F) float32
    y_rul: np.ndarray  # (N,) float32, capped at rul_cap
    y_health: np.ndarray  # (N,) int64
    unit: np.ndarray  # (N,) engine id of each window
    y_rul_uncapped: np.ndarray | None = None  # test only: the true RUL from RUL_FD00x.txt
    n_cycles: np.ndarray | None = None  # test only: recorded cycles of each engine

    def __len__(self) -> int:
        return len(self.y_rul)

    def __repr__(self) -> str:
        return f"Split(X={self.X.shape}, engines={len(np.unique(self.unit))})"


@dataclass
class Prepared:
    """The prepared subset: ``train``/``val``/``test`` splits and the fitted ``state``."""

    subset: str
    train: Split
    val: Split
    test: Split
    state: FittedState
    info: dict = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        return self.state.n_features

    def __repr__(self) -> str:
        return (
            f"Prepared({self.subset}, F={self.n_features}: train {self.train.X.shape}, "
            f"val {self.val.X.shape}, test {self.test.X.shape})"
        )


def _features(frame: pd.DataFrame, state: FittedState, engine_baseline: int) -> np.ndarray:
    """Normalised features of a unit-sorted table, minus each engine's baseline if asked."""
    features = state.transform(frame)
    if engine_baseline > 0:
        features = subtract_engine_baseline(features, frame["unit"].to_numpy(), engine_baseline)
    return features


def _train_split(frame: pd.DataFrame, state: FittedState, engine_baseline: int = 0) -> Split:
    units = frame["unit"].to_numpy()
    X, last = sliding_windows(_features(frame, state, engine_baseline), units, state.window)
    rul = np.minimum(train_rul(frame)[last], state.rul_cap)
    return Split(
        X=np.ascontiguousarray(X, dtype=np.float32),
        y_rul=rul.astype(np.float32),
        y_health=health_labels(rul, state.health_thresholds),
        unit=units[last],
    )


def prepare(
    subset: str = "FD001",
    data_dir: str | os.PathLike | None = None,
    *,
    window: int = 30,
    rul_cap: float = RUL_CAP,
    use_settings: bool = True,
    n_conditions: int | None = None,
    health_thresholds: tuple[float, float] = (80, 30),
    val_fraction: float = 0.2,
    seed: int = 0,
    max_train_engines: int | None = None,
    engine_baseline: int = 0,
    tables: CMAPSSTables | None = None,
) -> Prepared:
    """Run the whole pre-processing pipeline of one subset (SPEC section 2).

    ``use_settings=False`` gives the 14-sensor input; ``max_train_engines`` keeps
    only the first engines of the training split (the smoke profile uses it);
    ``engine_baseline=k > 0`` subtracts from every engine its mean over its own first k
    cycles (:func:`subtract_engine_baseline`; not in the book);
    ``tables`` lets tests pass synthetic data instead of reading files.
    """
    subset = check_subset(subset) if tables is None else tables.subset
    tables = tables if tables is not None else load_cmapss(subset, data_dir)
    train_units, val_units = split_engines(tables.train["unit"].to_numpy(), val_fraction, seed)
    if max_train_engines is not None:
        train_units = train_units[:max_train_engines]
        val_units = val_units[: max(1, max_train_engines // 4)] if len(val_units) else val_units
    in_train = tables.train["unit"].isin(train_units)
    in_val = tables.train["unit"].isin(val_units)
    state = fit_state(
        tables.train[in_train],
        subset,
        n_conditions=n_conditions or N_CONDITIONS.get(subset, 1),
        use_settings=use_settings,
        seed=seed,
        train_units=[int(u) for u in train_units],
        val_units=[int(u) for u in val_units],
        window=window,
        rul_cap=float(rul_cap),
        health_thresholds=tuple(health_thresholds),
    )
    test_units = tables.test["unit"].to_numpy()
    test_features = _features(tables.test, state, engine_baseline)
    X_test, n_cycles = last_windows(test_features, test_units, window)
    rul_test = np.minimum(tables.test_rul, rul_cap)
    test = Split(
        X=np.ascontiguousarray(X_test, dtype=np.float32),
        y_rul=rul_test.astype(np.float32),
        y_health=health_labels(rul_test, health_thresholds),
        unit=np.unique(test_units),
        y_rul_uncapped=tables.test_rul.astype(np.float32),
        n_cycles=n_cycles,
    )
    return Prepared(
        subset=subset,
        train=_train_split(tables.train[in_train], state, engine_baseline),
        val=_train_split(tables.train[in_val], state, engine_baseline),
        test=test,
        state=state,
        info={"n_padded_test_engines": int((n_cycles < window).sum())},
    )
