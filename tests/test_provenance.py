"""humanlib.provenance: one description of the command, commit, machine and data for every results file."""

from __future__ import annotations

import re

import torch

from humanlib import provenance as pv


def test_command_line_reads_sys_argv(monkeypatch):
    monkeypatch.setattr("sys.argv", ["/usr/bin/humanlib", "train-gmm", "--components", "4"])
    assert pv.command_line() == "humanlib train-gmm --components 4"
    monkeypatch.setattr("sys.argv", ["/usr/bin/humanlib"])
    assert pv.command_line(default="humanlib experiment") == "humanlib experiment"


def test_machine_description_is_one_line_naming_torch():
    text = pv.machine_description()
    assert "\n" not in text and f"torch {torch.__version__}" in text and "CPU cores" in text


def test_git_commit_is_a_hash_or_unknown():
    commit = pv.git_commit()
    assert commit == "unknown" or re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", commit)


def test_poses_fingerprint_changes_with_the_values():
    a = torch.zeros(3, 21, 3)
    assert pv.poses_fingerprint(a) == pv.poses_fingerprint(a.clone().double())
    assert pv.poses_fingerprint(a) != pv.poses_fingerprint(a + 1e-3)


def test_corpus_source_of_the_open_corpus(monkeypatch):
    monkeypatch.delenv("HUMANLIB_AMASS_DIR", raising=False)
    digest = pv.corpus_manifest_sha256()
    assert pv.corpus_source() == ("unknown" if digest == "unknown" else f"open corpus, manifest sha256 {digest[:16]}")
