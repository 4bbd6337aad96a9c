"""Loading, validation and pre-processing of C-MAPSS (book chapters 5-7, SPEC section 2)."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from rulkit.data import (
    KEPT_SENSORS,
    SETTINGS,
    CMAPSSFormatError,
    FittedState,
    health_labels,
    load_cmapss,
    prepare,
    sliding_windows,
    synthetic_tables,
    write_cmapss_files,
)
from rulkit.data.prepare import split_engines, subtract_engine_baseline

WINDOW = 30
TRAIN_WINDOWS = {"FD001": 17731, "FD002": 46219, "FD003": 21820, "FD004": 54028}
TEST_ENGINES = {"FD001": 100, "FD002": 259, "FD003": 100, "FD004": 248}
SHORT_TEST_ENGINES = {"FD001": 0, "FD002": 6, "FD003": 0, "FD004": 11}
ALL_SUBSETS = list(TRAIN_WINDOWS)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def real(cmapss_dir):
    """get(subset) -> (raw tables, prepared subset), each subset read and prepared once."""
    cache = {}

    def get(subset):
        if subset not in cache:
            tables = load_cmapss(subset, cmapss_dir)
            cache[subset] = (tables, prepare(tables=tables))
        return cache[subset]

    return get


def engine_lengths(frame: pd.DataFrame) -> pd.Series:
    return frame.groupby("unit").size()


def read_rul_file(folder, subset) -> np.ndarray:
    with gzip.open(folder / f"RUL_{subset}.txt.gz", "rt") as handle:
        return np.loadtxt(handle, dtype=np.float64)


def synthetic(n_conditions=1, subset="FD001", **kwargs):
    return synthetic_tables(n_conditions=n_conditions, subset=subset, **kwargs)


# --------------------------------------------------------------------------- real files


@pytest.mark.parametrize("subset", ALL_SUBSETS)
def test_train_window_count_before_validation_split(real, subset):
    tables, p = real(subset)
    assert len(p.train) + len(p.val) == TRAIN_WINDOWS[subset]
    # the same count from the raw table: an engine of L cycles yields L - 29 windows
    assert (engine_lengths(tables.train) - WINDOW + 1).clip(lower=0).sum() == TRAIN_WINDOWS[subset]


@pytest.mark.parametrize("subset", ALL_SUBSETS)
def test_one_test_window_per_test_engine(real, subset):
    tables, p = real(subset)
    n = TEST_ENGINES[subset]
    assert len(p.test) == n == tables.test["unit"].nunique()
    np.testing.assert_array_equal(p.test.unit, np.arange(1, n + 1))


@pytest.mark.parametrize("subset", ALL_SUBSETS)
def test_split_shapes_and_dtypes(real, subset):
    _, p = real(subset)
    assert p.test.X.shape == (TEST_ENGINES[subset], WINDOW, 17)
    for split in (p.train, p.val, p.test):
        assert split.X.dtype == np.float32 and split.X.shape[1:] == (WINDOW, 17)
        assert split.y_rul.dtype == np.float32
        assert split.y_health.dtype == np.int64
        assert len(split.X) == len(split.y_rul) == len(split.y_health) == len(split.unit)
        assert np.isfinite(split.X).all()


@pytest.mark.parametrize("subset", ALL_SUBSETS)
def test_short_test_engines_are_counted(real, subset):
    tables, p = real(subset)
    short = int((engine_lengths(tables.test) < WINDOW).sum())
    assert short == SHORT_TEST_ENGINES[subset]
    assert p.info["n_padded_test_engines"] == short
    np.testing.assert_array_equal(p.test.n_cycles, engine_lengths(tables.test).to_numpy())


@pytest.mark.parametrize("subset", ["FD002", "FD004"])
def test_padding_repeats_first_row_at_the_front(real, subset):
    tables, p = real(subset)
    lengths = engine_lengths(tables.test)
    for unit, n in lengths[lengths < WINDOW].items():
        x = p.test.X[unit - 1]
        rows = p.state.transform(tables.test[tables.test["unit"] == unit])
        np.testing.assert_array_equal(x[WINDOW - n :], rows)  # real cycles at the end
        np.testing.assert_array_equal(x[: WINDOW - n], np.repeat(rows[:1], WINDOW - n, axis=0))


def test_test_window_is_the_last_thirty_cycles(real):
    tables, p = real("FD001")
    for unit in (1, 50, 100):
        rows = p.state.transform(tables.test[tables.test["unit"] == unit])
        np.testing.assert_array_equal(p.test.X[unit - 1], rows[-WINDOW:])


@pytest.mark.parametrize("subset", ALL_SUBSETS)
def test_test_targets_come_from_the_rul_file(real, cmapss_dir, subset):
    _, p = real(subset)
    raw = read_rul_file(cmapss_dir, subset)  # read independently of the loader
    np.testing.assert_array_equal(p.test.y_rul_uncapped, raw.astype(np.float32))
    np.testing.assert_array_equal(p.test.y_rul, np.minimum(raw, 125).astype(np.float32))
    assert (raw > 125).any()  # so the cap is actually exercised


@pytest.mark.parametrize("subset", ["FD001", "FD004"])
def test_health_labels_follow_capped_rul(real, subset):
    _, p = real(subset)
    for split in (p.train, p.val, p.test):
        y = split.y_rul
        expected = np.select([y > 80, y > 30], [0, 1], default=2)
        np.testing.assert_array_equal(split.y_health, expected)
    assert set(np.unique(p.train.y_health)) == {0, 1, 2}


@pytest.mark.parametrize("subset", ALL_SUBSETS)
def test_train_and_val_engines_are_disjoint(real, subset):
    tables, p = real(subset)
    train, val = set(np.unique(p.train.unit)), set(np.unique(p.val.unit))
    assert not train & val
    assert train | val == set(tables.train["unit"])
    assert len(val) == round(0.2 * tables.train["unit"].nunique())
    assert (set(p.state.train_units), set(p.state.val_units)) == (train, val)


def test_train_targets_are_capped_rul_at_the_last_cycle(real):
    tables, p = real("FD001")
    lengths = engine_lengths(tables.train)
    start = 0
    for unit in np.unique(p.train.unit)[:5]:
        n = lengths[unit]
        expected = np.minimum(np.arange(n - WINDOW, -1, -1), 125)
        np.testing.assert_array_equal(p.train.y_rul[start : start + n - WINDOW + 1], expected)
        start += n - WINDOW + 1


def test_prepare_from_folder_equals_prepare_from_tables(real, cmapss_dir):
    _, p = real("FD001")
    q = prepare("FD001", cmapss_dir)
    np.testing.assert_array_equal(q.train.X, p.train.X)
    np.testing.assert_array_equal(q.test.X, p.test.X)
    assert q.state == p.state


def test_use_settings_false_gives_the_14_sensors(real):
    tables, p = real("FD001")
    q = prepare(tables=tables, use_settings=False)
    assert q.n_features == 14 and q.test.X.shape == (100, WINDOW, 14)
    assert q.state.feature_names == list(KEPT_SENSORS)
    # the sensor channels are the same numbers as the last 14 of the F = 17 input
    np.testing.assert_array_equal(q.train.X, p.train.X[..., 3:])


def test_prepare_fd004_with_max_train_engines(real):
    tables, _ = real("FD004")
    p = prepare(tables=tables, max_train_engines=10)
    assert len(p.state.train_units) == 10 and len(p.state.val_units) == 2
    lengths = engine_lengths(tables.train)
    assert len(p.train) == sum(lengths[u] - WINDOW + 1 for u in p.state.train_units)
    assert len(p.val) == sum(lengths[u] - WINDOW + 1 for u in p.state.val_units)
    assert len(p.test) == 248  # the test set is never truncated
    assert len(p.state.centroids) == 6


def train_rows(tables, state):
    return tables.train[tables.train["unit"].isin(state.train_units)]


def test_fd002_sensors_are_zscored_per_condition(real):
    tables, p = real("FD002")
    rows = train_rows(tables, p.state)
    z = p.state.transform(rows)[:, len(SETTINGS) :]
    # FD002's six operating points are 0, 10, 20, 25, 35 and 42 in setting_1: an
    # assignment of conditions independent of the fitted k-means
    condition = np.round(rows["setting_1"].to_numpy())
    raw = rows[list(KEPT_SENSORS)].to_numpy(np.float64)
    global_z = (raw - raw.mean(axis=0)) / raw.std(axis=0)
    assert len(np.unique(condition)) == 6
    for c in np.unique(condition):
        m = condition == c
        np.testing.assert_allclose(z[m].mean(axis=0), 0, atol=1e-3)
        np.testing.assert_allclose(z[m].std(axis=0), 1, atol=1e-3)
        # a global z-score would miss these tolerances by orders of magnitude
        assert np.abs(global_z[m].mean(axis=0)).max() > 0.5


def test_settings_are_zscored_globally(real):
    tables, p = real("FD002")
    s = p.state.transform(train_rows(tables, p.state))[:, : len(SETTINGS)]
    np.testing.assert_allclose(s.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(s.std(axis=0), 1, atol=1e-4)


def test_train_windows_equal_transformed_table_rows(real):
    tables, p = real("FD002")
    rows = train_rows(tables, p.state)
    table = p.state.transform(rows)
    lengths = engine_lengths(rows)
    per_engine = (lengths - WINDOW + 1).to_numpy()
    engine_start = np.concatenate([[0], np.cumsum(lengths.to_numpy())[:-1]])
    window_offset = np.concatenate([[0], np.cumsum(per_engine)[:-1]])
    rng = np.random.default_rng(0)
    for j in rng.choice(len(p.train), 50, replace=False).tolist() + [0, len(p.train) - 1]:
        e = np.searchsorted(window_offset, j, side="right") - 1
        k = j - window_offset[e]  # window k of engine e covers its cycles k .. k+29
        first = engine_start[e] + k
        np.testing.assert_array_equal(p.train.X[j], table[first : first + WINDOW])
        assert p.train.unit[j] == lengths.index[e]
        assert p.train.y_rul[j] == min(lengths.iloc[e] - 1 - (k + WINDOW - 1), 125)


def test_real_state_ignores_test_and_validation_rows(real):
    tables, p = real("FD004")
    val = tables.train["unit"].isin(p.state.val_units)
    train = tables.train.copy()
    train.loc[val, SETTINGS + list(KEPT_SENSORS)] *= 1000.0
    test = tables.test.copy()
    test[SETTINGS + list(KEPT_SENSORS)] = test[SETTINGS + list(KEPT_SENSORS)] * -50.0 + 1e4
    q = prepare(tables=replace(tables, train=train, test=test))
    assert q.state.to_json() == p.state.to_json()


# --------------------------------------------------------------------------- synthetic data


def test_health_label_thresholds_and_boundaries():
    y = np.array([125, 80.5, 80.0, 79.9, 30.5, 30.0, 29.9, 0.0])
    np.testing.assert_array_equal(health_labels(y), [0, 0, 1, 1, 1, 2, 2, 2])
    assert health_labels(y).dtype == np.int64


def test_sliding_windows_never_cross_engines():
    units = np.array([1, 1, 1, 2, 2, 2, 2, 3])
    features = np.arange(16, dtype=np.float32).reshape(8, 2)
    X, last = sliding_windows(features, units, window=3)
    np.testing.assert_array_equal(last, [2, 5, 6])  # engine 1: 1 window, 2: 2, 3: none
    np.testing.assert_array_equal(X[1], features[3:6])
    assert (units[last - 2] == units[last]).all()


def test_engine_baseline_against_pandas():
    """Oracle: a pandas group-by of each engine's first k rows."""
    rng = np.random.default_rng(0)
    units = np.repeat([3, 5, 9], [6, 2, 4])  # engine 5 is shorter than k
    features = rng.normal(size=(12, 3))
    frame = pd.DataFrame(features).assign(unit=units)
    baseline = frame.groupby("unit").head(4).groupby("unit").mean()
    expected = features - baseline.loc[units].to_numpy()
    np.testing.assert_allclose(subtract_engine_baseline(features, units, 4), expected)


def test_prepare_with_engine_baseline_centres_each_engine(real):
    tables, plain = real("FD001")
    based = prepare(tables=tables, engine_baseline=10)
    first = based.train.unit == based.train.unit[0]
    # the first window of an engine covers its first 30 cycles; the first 10 average to 0
    np.testing.assert_allclose(based.train.X[first][0, :10].mean(axis=0), 0, atol=1e-5)
    # a shift per engine and sensor: differences inside a window are unchanged
    dx = np.diff(based.test.X, axis=1) - np.diff(plain.test.X, axis=1)
    np.testing.assert_allclose(dx, 0, atol=1e-5)
    assert not np.allclose(based.test.X, plain.test.X)


def test_split_is_seeded():
    units = np.arange(1, 51)
    a_train, a_val = split_engines(units, 0.2, seed=0)
    b_train, b_val = split_engines(units, 0.2, seed=0)
    c_train, c_val = split_engines(units, 0.2, seed=1)
    np.testing.assert_array_equal(a_val, b_val)
    np.testing.assert_array_equal(a_train, b_train)
    assert len(a_val) == 10 and not set(a_val) & set(a_train)
    assert set(a_val) != set(c_val)


def test_prepare_split_follows_the_seed():
    tables = synthetic(n_train=20)
    val = [prepare(tables=tables, seed=s).state.val_units for s in (3, 3, 4)]
    assert val[0] == val[1] != val[2]


def test_split_rejects_bad_fraction():
    with pytest.raises(ValueError, match="val_fraction"):
        split_engines(np.arange(10), 1.0, 0)


def perturb(frame, rows, scale):
    frame = frame.copy()
    columns = SETTINGS + list(KEPT_SENSORS)
    frame.loc[rows, columns] = frame.loc[rows, columns] * scale + 7.0
    return frame


def test_fitted_state_uses_only_training_engines():
    tables = synthetic(n_conditions=6, subset="FD002", n_train=10, n_test=5)
    base = prepare(tables=tables).state
    val = tables.train["unit"].isin(base.val_units)
    tampered = replace(
        tables,
        train=perturb(tables.train, val, 100.0),
        test=perturb(tables.test, slice(None), -30.0),
        test_rul=tables.test_rul * 3,
    )
    state = prepare(tables=tampered).state
    assert len(state.centroids) == 6
    assert state.to_json() == base.to_json()  # centroids, means, stds: all unchanged


def test_changing_one_training_row_changes_the_state():
    tables = synthetic(n_conditions=6, subset="FD002", n_train=10, n_test=5)
    base = prepare(tables=tables).state
    row = tables.train.index[tables.train["unit"] == base.train_units[0]][5]
    train = tables.train.copy()
    train.loc[row, "s_2"] += 50.0
    state = prepare(tables=replace(tables, train=train)).state
    assert state.sensor_mean != base.sensor_mean
    assert state.sensor_std != base.sensor_std


def test_fitted_state_round_trips_through_json(tmp_path):
    tables = synthetic(n_conditions=6, subset="FD002", n_train=8, n_test=4)
    p = prepare(tables=tables)
    path = tmp_path / "state.json"
    p.state.save(path)
    raw = path.read_bytes()
    assert raw.lstrip().startswith(b"{") and b"\x80" not in raw  # text, not a pickle

    def plain(value):
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or isinstance(value, (str, int, float, bool))

    assert plain(json.loads(raw))
    loaded = FittedState.load(path)
    assert loaded == p.state
    np.testing.assert_array_equal(loaded.transform(tables.test), p.state.transform(tables.test))


# --------------------------------------------------------------------------- file errors


@pytest.fixture
def files(tmp_path):
    """A folder with synthetic FD001 files in plain text, ready to be corrupted."""
    write_cmapss_files(synthetic(n_train=4, n_test=3, seed=1), tmp_path)
    return tmp_path


def edit_line(path, index, edit):
    lines = path.read_text().splitlines()
    lines[index] = edit(lines[index])
    path.write_text("\n".join(lines) + "\n")


def set_cell(path, index, column, value):
    def edit(line):
        cells = line.split()
        cells[column] = value
        return " ".join(cells)

    edit_line(path, index, edit)


def test_plain_and_gzip_files_give_identical_tables(tmp_path):
    tables = synthetic(n_conditions=6, subset="FD002", n_train=4, n_test=3)
    write_cmapss_files(tables, tmp_path / "txt")
    write_cmapss_files(tables, tmp_path / "gz", compress=True)
    for name in ("train_FD002.txt", "test_FD002.txt", "RUL_FD002.txt"):  # gzip of the same text
        packed = (tmp_path / "gz" / f"{name}.gz").read_bytes()
        assert gzip.decompress(packed) == (tmp_path / "txt" / name).read_bytes(), name
    assert not list((tmp_path / "gz").glob("*.txt")), "compress=True also wrote plain files"
    a, b = load_cmapss("FD002", tmp_path / "txt"), load_cmapss("FD002", tmp_path / "gz")
    pd.testing.assert_frame_equal(a.train, b.train)
    pd.testing.assert_frame_equal(a.test, b.test)
    np.testing.assert_array_equal(a.test_rul, b.test_rul)
    assert a.train["unit"].dtype == np.int64 and len(a.train) == len(tables.train)
    np.testing.assert_allclose(
        a.train[list(KEPT_SENSORS)], tables.train[list(KEPT_SENSORS)], atol=1e-4
    )


def test_missing_folder_is_named(tmp_path):
    folder = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="does not exist") as err:
        load_cmapss("FD001", folder)
    assert str(folder) in str(err.value) and "RULKIT_DATA_DIR" in str(err.value)


def test_missing_file_is_named(files):
    (files / "test_FD001.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"test_FD001\.txt .*is missing"):
        load_cmapss("FD001", files)


def test_unknown_subset_lists_the_valid_ones(files):
    with pytest.raises(ValueError, match="FD005") as err:
        load_cmapss("FD005", files)
    assert "FD001, FD002, FD003, FD004" in str(err.value)


def test_subset_names_are_normalised(files):
    assert load_cmapss("fd1", files).subset == "FD001"


def load_error(folder) -> str:
    with pytest.raises(CMAPSSFormatError) as err:
        load_cmapss("FD001", folder)
    return str(err.value)


def test_wrong_column_count(files):
    path = files / "train_FD001.txt"
    edit_line(path, 2, lambda line: " ".join(line.split()[:-1]))
    message = load_error(files)
    assert str(path) in message and "line 3 has 25 columns, expected 26" in message


def test_extra_column(files):
    path = files / "test_FD001.txt"
    edit_line(path, 0, lambda line: line + " 1.0")
    assert f"{path}: line 1 has 27 columns" in load_error(files)


def test_non_numeric_value(files):
    path = files / "train_FD001.txt"
    set_cell(path, 1, 4, "abc")
    message = load_error(files)
    assert str(path) in message and "line 2, column 5 holds 'abc', not a number" in message


def test_nan_value(files):
    path = files / "test_FD001.txt"
    set_cell(path, 3, 7, "NaN")
    message = load_error(files)
    assert str(path) in message and "line 4, column 8" in message and "NaN" in message


def test_nan_in_rul_file(files):
    path = files / "RUL_FD001.txt"
    set_cell(path, 0, 0, "nan")
    assert str(path) in load_error(files)


def test_units_with_a_gap(files):
    path = files / "train_FD001.txt"
    frame = load_cmapss("FD001", files).train
    lines = path.read_text().splitlines()
    for i in np.flatnonzero(frame["unit"].to_numpy() >= 2):  # units 1, 3, 4, 5: no unit 2
        unit, rest = lines[i].split(" ", 1)
        lines[i] = f"{int(unit) + 1} {rest}"
    path.write_text("\n".join(lines) + "\n")
    message = load_error(files)
    assert str(path) in message and "contiguous" in message and "unit 3" in message


def test_interleaved_units(files):
    path = files / "train_FD001.txt"
    frame = load_cmapss("FD001", files).train
    first_of_2 = int(np.flatnonzero(frame["unit"].to_numpy() == 2)[0])
    set_cell(path, first_of_2 + 3, 0, "1")  # 2, 2, 2, 1, 2: unit 1 comes back
    message = load_error(files)
    assert str(path) in message and "contiguous" in message


def test_units_not_starting_at_one(files):
    path = files / "test_FD001.txt"
    set_cell(path, 0, 0, "2")
    assert f"{path}: units must be numbered" in load_error(files)


def test_cycles_not_increasing(files):
    path = files / "train_FD001.txt"
    set_cell(path, 4, 1, "3")  # cycle 5 becomes 3 after cycle 4
    message = load_error(files)
    assert str(path) in message and "cycles of unit 1 do not increase at line 5" in message


def test_rul_file_length_must_match_test_engines(files):
    path = files / "RUL_FD001.txt"
    path.write_text("\n".join(path.read_text().splitlines()[:-1]) + "\n")
    message = load_error(files)
    assert str(path) in message and "holds 2 values but test_FD001.txt has 3 engines" in message


def test_negative_rul(files):
    path = files / "RUL_FD001.txt"
    set_cell(path, 0, 0, "-4")
    assert "must not be negative" in load_error(files)


def test_empty_file(files):
    path = files / "RUL_FD001.txt"
    path.write_text("")
    assert f"{path}: the file is empty" in load_error(files)


def test_corrupt_gzip_is_reported(tmp_path):
    write_cmapss_files(synthetic(n_train=3, n_test=2), tmp_path, compress=True)
    path = tmp_path / "train_FD001.txt.gz"
    path.write_bytes(path.read_bytes()[:40])  # a truncated download
    message = load_error(tmp_path)
    assert str(path) in message and "cannot be read" in message
