"""The committed open motion corpus, and the readers on the real raw archives (when present)."""

from __future__ import annotations

import hashlib
import json
import tarfile

import numpy as np
import pytest
import torch

from humanlib import paths
from humanlib.data import SPLIT_FPS, SPLITS, load_corpus, load_report
from humanlib.data.corpus import SPLIT_RULES, default_corpus_dir
from humanlib.skeleton import NUM_JOINTS, joint

CORPUS = default_corpus_dir()


@pytest.fixture(scope="module")
def corpus():
    return {s: load_corpus(s, use_amass=False) for s in SPLITS}


def test_committed_corpus_shapes_and_values(corpus):
    for split, c in corpus.items():
        N = len(c)
        assert N > 1000, split
        assert c.poses.shape == (N, NUM_JOINTS, 3) and c.poses.dtype == torch.float32
        assert c.transl.shape == (N, 3) and c.clip_index.shape == (N,)
        assert torch.isfinite(c.poses).all() and torch.isfinite(c.transl).all()
        assert c.poses.norm(dim=-1).max() <= np.pi + 1e-2  # axis-angle with angle in [0, pi]
        assert (c.poses[:, joint("left_hand")] == 0).all() and (c.poses[:, joint("right_hand")] == 0).all()
        assert c.fps == SPLIT_FPS[split]
        assert sum(k.num_frames for k in c.clips) == N
        assert all(k.fps == c.fps and k.licence and k.activity and k.source for k in c.clips)
        first, last = c.clips[-1].start, c.clips[-1].start + c.clips[-1].num_frames
        assert (c.clip_index[first:last] == len(c.clips) - 1).all() and last == N


def test_splits_are_disjoint_and_follow_the_rules(corpus):
    names = {s: {k.name for k in c.clips} for s, c in corpus.items()}
    assert not (names["train"] & names["val"]) and not (names["train"] & names["test"]) and not (names["val"] & names["test"])
    for split, c in corpus.items():
        for k in c.clips:
            held = {s for s in ("test", "val") if k.style in SPLIT_RULES[s]["bandai_styles"]
                    or k.subject in SPLIT_RULES[s].get("cmu_subjects", ()) or k.name in SPLIT_RULES[s].get("cmu_clips", ())}
            assert held == ({split} if split != "train" else set()), (split, k.name)
    # whole styles and subjects stay together
    styles = {s: {k.style for k in c.clips if k.style} for s, c in corpus.items()}
    assert not (styles["train"] & styles["test"]) and not (styles["train"] & styles["val"])


def test_test_split_serves_denoising_windows(corpus):
    test = corpus["test"]
    for length in (60, 120, 240):
        windows, ids = test.windows(length)
        assert windows.shape[1:] == (length, NUM_JOINTS, 3) and len(windows) > 20


def test_corpus_files_compact_and_intact():
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    total = 0
    for shard in manifest["shards"]:
        data = (CORPUS / shard["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == shard["sha256"], shard["file"]
        assert len(data) < 5_000_000
        total += len(data)
    assert total < 25_000_000


def test_report_has_per_joint_numbers_for_each_source():
    report = load_report()
    for source in ("cmu", "bandai-namco"):
        bones = report["direction_error_deg"][source]["bones"]
        assert "left_hip->left_knee" in bones and bones["left_hip->left_knee"]["mean"] < 1.0
    assert "spine2" in report["joints_at_rest"]["bandai-namco"]


def test_corpus_calibrated_on_the_current_body():
    """When the open body model is present, the corpus must have been calibrated on its J(beta=0)."""
    from humanlib.data import corpus_rest_joints
    from humanlib.data.retarget import target_rest_joints

    J, description = target_rest_joints()
    if description.startswith("placeholder"):
        pytest.skip("the open body model is not available; the corpus uses placeholder rest joints")
    assert np.allclose(corpus_rest_joints(), J, atol=1e-4), "rebuild the corpus: `humanlib build-corpus`"


# ----------------------------------------------------------------------------- real raw archives

RAW = paths.raw_data_dir()
needs_raw = pytest.mark.skipif(
    RAW is None or not (RAW / "cmu-asfamc-subjects-01-and-03.tar.xz").exists(),
    reason="raw mocap archives not found (../shared/data or HUMANLIB_RAW_DATA); only a course checkout has them",
)


@needs_raw
def test_real_cmu_files_parse_with_the_right_euler_order(tmp_path):
    """On CMU 03_02 (walking), Rz@Ry@Rx keeps the stance foot nearly still; the reverse order does not."""
    from humanlib.data import read_amc, read_asf
    from humanlib.data.asf_amc import amc_forward_kinematics

    with tarfile.open(RAW / "cmu-asfamc-subjects-01-and-03.tar.xz") as tf:
        for name in ("subjects/03/03.asf", "subjects/03/03_02.amc"):
            tf.extract(name, tmp_path, filter="data")
    skel = read_asf(tmp_path / "subjects/03/03.asf")
    assert skel.length_unit_m == pytest.approx(0.056444, rel=1e-4)
    motion = read_amc(tmp_path / "subjects/03/03_02.amc", skel)
    assert motion.num_frames == 365
    fk = amc_forward_kinematics(skel, motion)
    speed = np.linalg.norm(np.diff(fk.ends[:, skel.index("lfoot")], axis=0), axis=1) * 120.0
    assert np.percentile(speed, 10) < 0.1  # m/s: a planted foot
    lengths = fk.ends[0, skel.index("ltibia")] - fk.starts[0, skel.index("ltibia")]
    assert 0.3 < np.linalg.norm(lengths) < 0.5  # a shin in metres


@needs_raw
def test_real_bandai_file_parses_with_zxy_order(tmp_path):
    """The first straight-walking clip in the archive: head height, travel along +Z, left on +X."""
    from humanlib.data import read_bvh
    from humanlib.data.bvh import bvh_forward_kinematics

    with tarfile.open(RAW / "bandai-namco-research-motiondataset-1-2.tar.xz", mode="r|xz") as tf:
        for member in tf:  # streaming: stop at the first match instead of decompressing everything
            if "_walk_" in member.name and member.name.endswith(".bvh"):
                tf.extract(member, tmp_path, filter="data")
                break
    path = tmp_path / member.name
    m = read_bvh(path)
    assert len(m.names) == 22 and m.names[0] == "joint_Root" and m.fps == pytest.approx(30.0, rel=1e-4)
    P = bvh_forward_kinematics(m, scale=0.01).positions
    assert 1.3 < P[:, m.index("Head"), 1].mean() < 1.5, path.name
    assert P[-1, m.index("Hips"), 2] - P[0, m.index("Hips"), 2] > 1.0, path.name  # walks along +Z
    assert (P[:, m.index("UpperLeg_L"), 0] > P[:, m.index("UpperLeg_R"), 0]).mean() > 0.9  # left is +X
