"""Paths come from environment variables with defaults, and fail with clear messages."""

import pytest

from humanlib import paths


def test_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("HUMANLIB_CACHE_DIR", str(tmp_path / "cache"))
    assert paths.cache_dir() == tmp_path / "cache"
    assert (tmp_path / "cache").is_dir()


def test_user_files_unset_and_set(tmp_path, monkeypatch):
    monkeypatch.delenv("HUMANLIB_BODY_MODEL", raising=False)
    monkeypatch.delenv("HUMANLIB_AMASS_DIR", raising=False)
    assert paths.user_body_model() is None and paths.user_amass_dir() is None
    monkeypatch.setenv("HUMANLIB_BODY_MODEL", str(tmp_path / "SMPL_NEUTRAL.pkl"))
    monkeypatch.setenv("HUMANLIB_AMASS_DIR", "  ")
    assert paths.user_body_model() == tmp_path / "SMPL_NEUTRAL.pkl"
    assert paths.user_amass_dir() is None


def test_raw_data_dir_override(tmp_path, monkeypatch):
    monkeypatch.setenv("HUMANLIB_RAW_DATA", str(tmp_path))
    assert paths.raw_data_dir() == tmp_path


def test_missing_asset_says_what_to_do():
    with pytest.raises(FileNotFoundError, match="no_such_asset.*humanlib"):
        paths.asset("no_such_asset.npz")
