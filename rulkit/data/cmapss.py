"""Find, download and read the NASA C-MAPSS files (book chapter 5).

The twelve text files (``train_FD00x``, ``test_FD00x``, ``RUL_FD00x``) are read
as they are or gzip-compressed. Every check that fails raises an error that
names the file and says what is wrong with it, because a silently malformed
table would only show up chapters later as a strange RMSE.

Data on first use: when no folder is chosen (no ``data_dir`` argument, no
``RULKIT_DATA_DIR``) and the per-user cache lacks the files, :func:`load_cmapss`
downloads them once, with a progress bar (:func:`fetch_cmapss`). A folder that
*is* chosen is never written to behind the user's back. Two environment
variables change the download: ``RULKIT_DATA_URL`` replaces the archive's
address (any URL ``urllib`` opens, ``file://`` included; the archive must have
NASA's layout), and ``RULKIT_NO_DOWNLOAD=1`` turns the download on first use off.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SUBSETS = ("FD001", "FD002", "FD003", "FD004")
SETTINGS = [f"setting_{i}" for i in range(1, 4)]
SENSORS = [f"s_{i}" for i in range(1, 22)]
COLUMNS = ["unit", "cycle", *SETTINGS, *SENSORS]

# Environment variables: the data folder, another address for the archive, no download on use.
DATA_DIR_ENV = "RULKIT_DATA_DIR"
DATA_URL_ENV = "RULKIT_DATA_URL"
NO_DOWNLOAD_ENV = "RULKIT_NO_DOWNLOAD"

# NASA's archive first, then a second public copy of the same files.
ARCHIVE_URLS = (
    "https://phm-datasets.s3.amazonaws.com/NASA/"
    "6.+Turbofan+Engine+Degradation+Simulation+Data+Set.zip",
    "https://data.nasa.gov/download/xaut-bemq/application%2Fzip",
)

# Rows of each decompressed file, used to verify a download before it is kept.
EXPECTED_ROWS = {
    "train_FD001.txt": 20631, "train_FD002.txt": 53759,
    "train_FD003.txt": 24720, "train_FD004.txt": 61249,
    "test_FD001.txt": 13096, "test_FD002.txt": 33991,
    "test_FD003.txt": 16596, "test_FD004.txt": 41214,
    "RUL_FD001.txt": 100, "RUL_FD002.txt": 259,
    "RUL_FD003.txt": 100, "RUL_FD004.txt": 248,
}  # fmt: skip


class CMAPSSFormatError(ValueError):
    """A C-MAPSS file exists but its content is not what the data set defines."""


class CMAPSSDownloadError(RuntimeError, FileNotFoundError):
    """The files are missing and could not be downloaded; the message says what to do.

    A ``FileNotFoundError`` too, so code that handles missing files handles this."""


@dataclass(frozen=True)
class CMAPSSTables:
    """The raw tables of one subset, exactly as read from disk."""

    subset: str
    train: pd.DataFrame
    test: pd.DataFrame
    test_rul: np.ndarray  # true RUL at the last cycle of each test engine (uncapped)

    def __repr__(self) -> str:
        return (
            f"CMAPSSTables({self.subset}: train {self.train['unit'].nunique()} engines / "
            f"{len(self.train)} rows, test {self.test['unit'].nunique()} engines / "
            f"{len(self.test)} rows)"
        )


def default_data_dir() -> Path:
    """Where the files live: ``$RULKIT_DATA_DIR``, else the per-user cache."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    cache_root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_root) / "rulkit" / "CMAPSSData"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The argument if given, else :func:`default_data_dir` (resolved at call time)."""
    return Path(data_dir).expanduser() if data_dir is not None else default_data_dir()


def check_subset(subset: str) -> str:
    """Normalise ``'fd2'``/``'FD002'``-like names and reject unknown ones."""
    name = str(subset).upper()
    if name.startswith("FD") and name[2:].isdigit():
        name = f"FD{int(name[2:]):03d}"
    if name not in SUBSETS:
        raise ValueError(f"unknown C-MAPSS subset {subset!r}; valid subsets: {', '.join(SUBSETS)}")
    return name


def find_file(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Path of ``name`` (e.g. ``train_FD001.txt``) or of its ``.gz`` twin."""
    folder = resolve_data_dir(data_dir)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"C-MAPSS data folder {folder} does not exist. Call rulkit.fetch_cmapss() to "
            "download the files, or set RULKIT_DATA_DIR to a folder that holds them."
        )
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{name} (or {name}.gz) is missing from {folder}. Call rulkit.fetch_cmapss() "
        "or copy the twelve C-MAPSS text files there."
    )


def have_all_files(data_dir: str | os.PathLike | None = None) -> bool:
    """True when all twelve files are present (as ``.txt`` or ``.txt.gz``)."""
    folder = resolve_data_dir(data_dir)
    return all((folder / n).is_file() or (folder / f"{n}.gz").is_file() for n in EXPECTED_ROWS)


def _read_text(path: Path) -> str:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt") as handle:
            return handle.read()
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise CMAPSSFormatError(f"{path}: cannot be read as text ({err})") from err


def _read_table(path: Path, n_columns: int) -> pd.DataFrame:
    """Whitespace-separated numbers, ``n_columns`` per line, no NaN."""
    text = _read_text(path)
    try:  # fast path: the C parser; any doubt falls through to the precise diagnosis
        frame = pd.read_csv(io.StringIO(text), sep=r"\s+", header=None, dtype=np.float64)
        if frame.shape[1] == n_columns and np.isfinite(frame.to_numpy()).all():
            return frame
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        pass
    _diagnose_table(path, text, n_columns)
    raise CMAPSSFormatError(f"{path}: cannot be parsed as a table of {n_columns} numbers")


def _diagnose_table(path: Path, text: str, n_columns: int) -> None:
    """Raise an error that names the first bad line of a table that failed to parse."""
    rows = [line.split() for line in text.splitlines() if line.strip()]
    if not rows:
        raise CMAPSSFormatError(f"{path}: the file is empty")
    for i, row in enumerate(rows):
        if len(row) != n_columns:
            raise CMAPSSFormatError(
                f"{path}: line {i + 1} has {len(row)} columns, expected {n_columns}"
            )
        for j, cell in enumerate(row):
            try:
                value = float(cell)
            except ValueError:
                raise CMAPSSFormatError(
                    f"{path}: line {i + 1}, column {j + 1} holds {cell!r}, not a number"
                ) from None
            if not np.isfinite(value):
                raise CMAPSSFormatError(
                    f"{path}: line {i + 1}, column {j + 1} holds {cell!r} (NaN or infinite)"
                )


def _check_engines(frame: pd.DataFrame, path: Path) -> None:
    """Units numbered 1..n in contiguous blocks, cycles strictly increasing."""
    unit = frame["unit"].to_numpy()
    cycle = frame["cycle"].to_numpy()
    if np.any(unit != np.round(unit)) or np.any(cycle != np.round(cycle)):
        raise CMAPSSFormatError(f"{path}: unit and cycle numbers must be integers")
    step = np.diff(unit)
    if unit[0] != 1 or np.any((step != 0) & (step != 1)):
        i = int(np.flatnonzero((step != 0) & (step != 1))[0] + 1) if unit[0] == 1 else 0
        raise CMAPSSFormatError(
            f"{path}: units must be numbered 1, 2, 3, ... in contiguous blocks; "
            f"line {i + 1} has unit {int(unit[i])}"
        )
    same_unit = step == 0
    not_increasing = same_unit & (np.diff(cycle) <= 0)
    if np.any(not_increasing):
        i = int(np.flatnonzero(not_increasing)[0] + 1)
        raise CMAPSSFormatError(
            f"{path}: cycles of unit {int(unit[i])} do not increase at line {i + 1} "
            f"({int(cycle[i - 1])} then {int(cycle[i])})"
        )


def read_engine_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read one ``train_``/``test_`` file into the 26 named columns and check it."""
    path = Path(path)
    frame = _read_table(path, len(COLUMNS))
    frame.columns = COLUMNS
    frame = frame.astype({"unit": np.int64, "cycle": np.int64})
    _check_engines(frame, path)
    return frame


def archive_urls() -> tuple[str, ...]:
    """Where the archive is downloaded from: ``$RULKIT_DATA_URL`` if set, else NASA's
    archive and its public mirror (:data:`ARCHIVE_URLS`)."""
    url = os.environ.get(DATA_URL_ENV, "").strip()
    return (url,) if url else ARCHIVE_URLS


def ensure_cmapss(data_dir: str | os.PathLike | None = None) -> Path:
    """The data folder, after downloading the files into it if they are missing there
    and it is the per-user cache (no ``data_dir``, no ``RULKIT_DATA_DIR``).

    A folder chosen by the user is returned as it is, so that a missing file there is
    reported rather than replaced. ``RULKIT_NO_DOWNLOAD=1`` turns the download off.
    """
    folder = resolve_data_dir(data_dir)
    chosen = data_dir is not None or bool(os.environ.get(DATA_DIR_ENV))
    off = os.environ.get(NO_DOWNLOAD_ENV, "").strip().lower() not in ("", "0", "false", "no")
    if chosen or off or have_all_files(folder):
        return folder
    print(
        f"The C-MAPSS files are not in {folder} yet: downloading them once "
        f"(from {archive_urls()[0]}).",
        flush=True,
    )
    return fetch_cmapss(folder)


def load_cmapss(subset: str, data_dir: str | os.PathLike | None = None) -> CMAPSSTables:
    """Read and validate the train, test and RUL files of one subset.

    Without ``data_dir`` and ``RULKIT_DATA_DIR``, missing files are downloaded into
    the per-user cache first (:func:`ensure_cmapss`)."""
    subset = check_subset(subset)
    if data_dir is None:
        data_dir = ensure_cmapss()
    train = read_engine_table(find_file(f"train_{subset}.txt", data_dir))
    test_path = find_file(f"test_{subset}.txt", data_dir)
    test = read_engine_table(test_path)
    rul_path = find_file(f"RUL_{subset}.txt", data_dir)
    rul = _read_table(rul_path, 1)[0].to_numpy()
    n_test = test["unit"].nunique()
    if len(rul) != n_test:
        raise CMAPSSFormatError(
            f"{rul_path}: holds {len(rul)} values but {test_path.name} has {n_test} engines"
        )
    if np.any(rul < 0):
        raise CMAPSSFormatError(f"{rul_path}: RUL values must not be negative")
    return CMAPSSTables(subset, train, test, rul.astype(np.float64))


# --------------------------------------------------------------------------- download


def _download(url: str, target: Path, timeout: float) -> None:
    """Stream ``url`` into ``target`` with a progress bar."""
    from tqdm.auto import tqdm

    request = urllib.request.Request(url, headers={"User-Agent": "rulkit"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        with (
            open(target, "wb") as out,
            tqdm(total=total, unit="B", unit_scale=True, desc="C-MAPSS archive") as bar,
        ):
            while chunk := response.read(1 << 16):
                out.write(chunk)
                bar.update(len(chunk))


def _safe_member_path(root: Path, member: str) -> Path:
    """Where ``member`` would land under ``root``; refuse anything that escapes it."""
    destination = (root / member).resolve()
    if not destination.is_relative_to(root.resolve()):
        raise CMAPSSFormatError(f"archive member {member!r} would be written outside {root}")
    return destination


def extract_cmapss(archive: str | os.PathLike | io.BytesIO, target: Path) -> list[Path]:
    """Copy the twelve text files out of ``archive`` (zips nested at any depth).

    Only members whose base name is one of the expected files are written, each
    to ``target/<base name>``; a member path that would escape ``target`` is an
    error even when it has a wanted name.
    """
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():  # refuse the whole archive before writing anything
            _safe_member_path(target, info.filename)
        for info in zf.infolist():
            base = Path(info.filename).name
            if base.lower().endswith(".zip"):
                written += extract_cmapss(io.BytesIO(zf.read(info)), target)
            elif base in EXPECTED_ROWS and not info.is_dir():
                destination = _safe_member_path(target, base)
                with zf.open(info) as src, open(destination, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                written.append(destination)
    return written


def verify_cmapss(folder: Path, expected_rows: dict[str, int] = EXPECTED_ROWS) -> None:
    """Raise unless every expected file is present with its known row count."""
    for name, rows in expected_rows.items():
        path = folder / name
        if not path.is_file():
            raise CMAPSSFormatError(f"the archive did not contain {name}")
        found = sum(1 for line in _read_text(path).splitlines() if line.strip())
        if found != rows:
            raise CMAPSSFormatError(f"{name}: {found} rows, expected {rows}")


def fetch_cmapss(
    data_dir: str | os.PathLike | None = None,
    urls: tuple[str, ...] | None = None,
    timeout: float = 15.0,
    expected_rows: dict[str, int] | None = None,
) -> Path:
    """Make sure the C-MAPSS files are on disk and return their folder.

    Nothing is downloaded when all twelve files are already there. Otherwise the
    archive is fetched (``urls``, by default :func:`archive_urls`: NASA first, then
    the mirror, or ``$RULKIT_DATA_URL``), verified and only then moved into place,
    so an interrupted download never leaves half a data set.
    """
    folder = resolve_data_dir(data_dir)
    if have_all_files(folder):
        return folder
    urls = archive_urls() if urls is None else tuple(urls)
    expected_rows = EXPECTED_ROWS if expected_rows is None else expected_rows
    folder.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as tmp:
            tmp = Path(tmp)
            try:
                _download(url, tmp / "archive.zip", timeout)
                extract_cmapss(tmp / "archive.zip", tmp / "files")
                verify_cmapss(tmp / "files", expected_rows)
            except (OSError, urllib.error.URLError, zipfile.BadZipFile, CMAPSSFormatError) as err:
                errors.append(f"{url}: {err}")
                continue
            for name in expected_rows:
                os.replace(tmp / "files" / name, folder / name)
            return folder
    raise CMAPSSDownloadError(
        "Could not download the C-MAPSS data set:\n  "
        + "\n  ".join(errors)
        + f"\nWorking offline? Copy the twelve files train_FD00x.txt, test_FD00x.txt and "
        f"RUL_FD00x.txt (or their .gz versions) into {folder}, or set RULKIT_DATA_DIR "
        "to a folder that holds them (or RULKIT_DATA_URL to another copy of the archive)."
    )
