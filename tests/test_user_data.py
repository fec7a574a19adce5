"""A researcher's own mocap: ``retarget_folder`` reproduces the committed corpus clip bit for bit."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from humanlib import paths
from humanlib.data import load_corpus
from humanlib.data.retarget_files import MOTIONS_FILE, retarget_folder

ARCHIVE = "cmu-asfamc-subjects-01-and-03.tar.xz"


def _raw() -> Path:
    raw = paths.raw_data_dir()
    if raw is None or not (Path(raw) / ARCHIVE).is_file():
        pytest.skip(f"needs the course archive {ARCHIVE} (HUMANLIB_RAW_DATA or ../shared/data)")
    return Path(raw)


def test_retarget_cmu_clip_reproduces_the_committed_corpus_bit_for_bit(tmp_path, monkeypatch):
    with tarfile.open(_raw() / ARCHIVE) as tf:
        for name in ("subjects/03/03.asf", "subjects/03/03_01.amc"):
            tf.extract(name, tmp_path / "raw", filter="data")
    monkeypatch.chdir(tmp_path)  # from a folder outside the repository
    report = retarget_folder(tmp_path / "raw", "mine", fps=30.0)
    meta = json.loads((tmp_path / "mine" / MOTIONS_FILE).read_text())
    assert meta["fps"] == 30.0 and meta["up"] == "y" and [c["id"] for c in meta["clips"]] == ["03_01"]
    assert report["direction_error_deg"]["cmu"]["all_bones_mean"] > 0
    corpus = load_corpus("test")
    i = next(k for k, c in enumerate(corpus.clips) if c.name == "03_01")
    poses, transl = corpus.clip(i)
    with np.load(tmp_path / "mine" / "03_01.npz") as d:
        assert d["poses"].dtype == np.float16
        assert np.array_equal(d["poses"].astype(np.float32), poses[:, :22].numpy())
        assert np.array_equal(d["transl"], transl.numpy())
