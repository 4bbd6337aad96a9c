"""fetch_cmapss: where the data lives, download, verification and safe extraction."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import urllib.error
import zipfile
from pathlib import Path

import pytest

import rulkit.data.cmapss as cmapss
from rulkit.data import CMAPSSFormatError, default_data_dir, fetch_cmapss, load_cmapss
from rulkit.data.cmapss import EXPECTED_ROWS, extract_cmapss, resolve_data_dir, verify_cmapss

OUTER_FOLDER = "6. Turbofan Engine Degradation Simulation Data Set"


@pytest.fixture
def no_download(monkeypatch):
    """Make any download attempt fail the test."""

    def fail(url, target, timeout):
        raise AssertionError(f"unexpected download of {url}")

    monkeypatch.setattr(cmapss, "_download", fail)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No RULKIT_DATA_DIR, and a private cache and home so the real ones are never touched."""
    monkeypatch.delenv("RULKIT_DATA_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


def nested_zip(files: Path, archive: Path, extra: dict[str, bytes] | None = None) -> Path:
    """NASA's layout: an outer zip holding CMAPSSData.zip, which holds the twelve files."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for path in sorted(files.iterdir()):
            zf.write(path, path.name)
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"{OUTER_FOLDER}/CMAPSSData.zip", inner.getvalue())
        zf.writestr(f"{OUTER_FOLDER}/readme.txt", "not a data file")
        for name, data in (extra or {}).items():
            zf.writestr(zipfile.ZipInfo(name), data)
    return archive


@pytest.fixture
def synthetic_archive(tmp_path, write_synthetic):
    """(archive path, expected rows) of a nested zip built from small synthetic files."""
    rows = write_synthetic(tmp_path / "src")
    return nested_zip(tmp_path / "src", tmp_path / "archive.zip"), rows


@pytest.fixture
def archive(tmp_path, write_synthetic):
    """The nested zip from NASA's real files when RULKIT_DATA_DIR is set, else synthetic."""
    env = os.environ.get("RULKIT_DATA_DIR")
    real = Path(env) if env else None
    src = tmp_path / "src"
    src.mkdir()
    if real is not None and all((real / f"{n}.gz").is_file() for n in EXPECTED_ROWS):
        for name in EXPECTED_ROWS:
            with gzip.open(real / f"{name}.gz", "rb") as gz, open(src / name, "wb") as out:
                shutil.copyfileobj(gz, out)
        rows = EXPECTED_ROWS
    else:
        rows = write_synthetic(src)
    return nested_zip(src, tmp_path / "archive.zip"), rows


# --------------------------------------------------------------------------- data folder


def test_argument_wins_over_environment(clean_env, tmp_path):
    clean_env.setenv("RULKIT_DATA_DIR", str(tmp_path / "env"))
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"


def test_environment_wins_over_cache(clean_env, tmp_path):
    clean_env.setenv("RULKIT_DATA_DIR", str(tmp_path / "env"))
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_data_dir() == default_data_dir() == tmp_path / "env"


def test_xdg_cache_is_used_without_environment(clean_env, tmp_path):
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_data_dir() == tmp_path / "xdg" / "rulkit" / "CMAPSSData"


def test_home_cache_is_the_last_resort(clean_env, tmp_path):
    assert resolve_data_dir() == tmp_path / "home" / ".cache" / "rulkit" / "CMAPSSData"


def test_fetch_resolves_the_folder_at_call_time(clean_env, tmp_path, write_synthetic, no_download):
    write_synthetic(tmp_path / "xdg" / "rulkit" / "CMAPSSData")
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert fetch_cmapss() == tmp_path / "xdg" / "rulkit" / "CMAPSSData"
    shutil.copytree(tmp_path / "xdg" / "rulkit" / "CMAPSSData", tmp_path / "env")
    clean_env.setenv("RULKIT_DATA_DIR", str(tmp_path / "env"))
    assert fetch_cmapss() == tmp_path / "env"


def test_nothing_is_downloaded_when_files_exist(tmp_path, write_synthetic, no_download):
    write_synthetic(tmp_path / "data")
    before = sorted(p.name for p in (tmp_path / "data").iterdir())
    assert fetch_cmapss(tmp_path / "data") == tmp_path / "data"
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == before


# --------------------------------------------------------------------------- download


def test_download_of_nested_zip_from_file_url(tmp_path, archive):
    path, rows = archive
    target = tmp_path / "cache" / "CMAPSSData"
    assert fetch_cmapss(target, urls=(path.as_uri(),), expected_rows=rows) == target
    assert sorted(p.name for p in target.iterdir()) == sorted(rows)  # no temp folder left
    verify_cmapss(target, rows)
    for name in rows:
        assert (target / name).read_bytes() == (tmp_path / "src" / name).read_bytes()
    assert len(load_cmapss("FD004", target).test_rul) == rows["RUL_FD004.txt"]


def test_failing_first_url_falls_back_to_second(tmp_path, synthetic_archive):
    path, rows = synthetic_archive
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"this is not a zip file")
    for first in ((tmp_path / "missing.zip").as_uri(), garbage.as_uri()):
        target = tmp_path / f"data-{len(first)}"
        fetch_cmapss(target, urls=(first, path.as_uri()), expected_rows=rows)
        verify_cmapss(target, rows)


@pytest.mark.parametrize("member", ["../evil.txt", "../train_FD001.txt", "ABSOLUTE"])
def test_members_escaping_the_target_are_refused(tmp_path, write_synthetic, member):
    rows = write_synthetic(tmp_path / "src")
    outside = tmp_path / "evil.txt" if "evil" in member else tmp_path / "train_FD001.txt"
    if member == "ABSOLUTE":
        member = str(tmp_path / "evil.txt")
    bad = nested_zip(tmp_path / "src", tmp_path / "bad.zip", extra={member: b"owned"})
    with pytest.raises(CMAPSSFormatError, match="outside"):
        extract_cmapss(bad, tmp_path / "out" / "extracted")
    target = tmp_path / "out" / "data"
    with pytest.raises(RuntimeError, match="outside"):
        fetch_cmapss(target, urls=(bad.as_uri(),), expected_rows=rows)
    assert list(target.iterdir()) == []  # the good members of the bad archive are not kept
    assert not outside.exists()
    assert not (tmp_path / "out" / "evil.txt").exists()


def test_wrong_row_counts_are_refused_and_leave_nothing(tmp_path, synthetic_archive):
    path, rows = synthetic_archive
    wrong = dict(rows, **{"test_FD003.txt": rows["test_FD003.txt"] + 1})
    target = tmp_path / "data"
    with pytest.raises(RuntimeError, match=r"test_FD003\.txt: \d+ rows, expected"):
        fetch_cmapss(target, urls=(path.as_uri(),), expected_rows=wrong)
    assert list(target.iterdir()) == []  # neither files nor the temporary download folder


def test_archive_without_the_files_is_refused(tmp_path):
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "nothing here")
    with pytest.raises(RuntimeError, match="did not contain"):
        fetch_cmapss(tmp_path / "data", urls=(empty.as_uri(),))
    assert list((tmp_path / "data").iterdir()) == []


def test_offline_error_says_where_to_put_the_files(tmp_path, monkeypatch):
    def offline(url, target, timeout):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(cmapss, "_download", offline)
    target = tmp_path / "data"
    with pytest.raises(RuntimeError) as err:
        fetch_cmapss(target)
    message = str(err.value)
    assert str(target) in message and "RULKIT_DATA_DIR" in message
    assert "train_FD00x.txt" in message and "name resolution" in message
    for url in cmapss.ARCHIVE_URLS:  # both URLs were tried
        assert url in message
    assert list(target.iterdir()) == []


# --------------------------------------------------------------------------- data on first use


@pytest.fixture
def small_rows(monkeypatch, write_synthetic, tmp_path):
    """Synthetic files in NASA's nested layout, made the expected row counts (module-wide)."""
    rows = write_synthetic(tmp_path / "src")
    monkeypatch.setattr(cmapss, "EXPECTED_ROWS", rows)
    return nested_zip(tmp_path / "src", tmp_path / "archive.zip"), rows


def test_data_url_setting_replaces_the_archive_address(clean_env, tmp_path):
    clean_env.setenv("RULKIT_DATA_URL", "file:///somewhere/else.zip")
    assert cmapss.archive_urls() == ("file:///somewhere/else.zip",)
    clean_env.setenv("RULKIT_DATA_URL", "  ")
    assert cmapss.archive_urls() == cmapss.ARCHIVE_URLS


def test_fetch_uses_the_data_url_setting(clean_env, tmp_path, small_rows):
    path, rows = small_rows
    clean_env.setenv("RULKIT_DATA_URL", path.as_uri())
    target = fetch_cmapss(tmp_path / "data")
    verify_cmapss(target, rows)


def test_first_use_downloads_into_the_empty_cache(clean_env, tmp_path, small_rows, capsys):
    path, rows = small_rows
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    clean_env.setenv("RULKIT_DATA_URL", path.as_uri())
    cache = tmp_path / "xdg" / "rulkit" / "CMAPSSData"
    tables = load_cmapss("FD003")  # no data_dir, no RULKIT_DATA_DIR: the cache, empty
    assert len(tables.test_rul) == rows["RUL_FD003.txt"]
    assert sorted(p.name for p in cache.iterdir()) == sorted(rows)
    assert "downloading them once" in capsys.readouterr().out
    load_cmapss("FD001")  # second use: nothing to download
    assert "downloading" not in capsys.readouterr().out


def test_prepare_on_first_use_downloads_too(clean_env, tmp_path, small_rows):
    from rulkit.data import prepare

    path, _ = small_rows
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    clean_env.setenv("RULKIT_DATA_URL", path.as_uri())
    assert len(prepare("FD002").test) == 5


def test_a_chosen_folder_is_never_downloaded_into(clean_env, tmp_path, small_rows, no_download):
    path, _ = small_rows
    clean_env.setenv("RULKIT_DATA_URL", path.as_uri())
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_cmapss("FD001", tmp_path / "mine")
    clean_env.setenv("RULKIT_DATA_DIR", str(tmp_path / "env"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_cmapss("FD001")
    assert not (tmp_path / "mine").exists() and not (tmp_path / "env").exists()


def test_no_download_setting_turns_first_use_off(clean_env, tmp_path, no_download):
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    clean_env.setenv("RULKIT_NO_DOWNLOAD", "1")
    with pytest.raises(FileNotFoundError, match="rulkit.fetch_cmapss"):
        load_cmapss("FD001")


def test_first_use_offline_says_what_to_do(clean_env, tmp_path, monkeypatch):
    def offline(url, target, timeout):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(cmapss, "_download", offline)
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with pytest.raises(cmapss.CMAPSSDownloadError) as err:
        load_cmapss("FD001")
    assert isinstance(err.value, FileNotFoundError) and isinstance(err.value, RuntimeError)
    message = str(err.value)
    assert "RULKIT_DATA_DIR" in message and "RULKIT_DATA_URL" in message
    assert str(tmp_path / "xdg" / "rulkit" / "CMAPSSData") in message
