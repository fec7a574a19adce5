"""Tests of humanlib.data: readers, retargeting round trips, AMASS loader, mirroring, bad input, builder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from humanlib.data import (
    AmassFormatError,
    AsfAmcFormatError,
    BvhFormatError,
    CorpusError,
    MotionCorpus,
    load_amass_npz,
    load_corpus,
    mirror_poses,
    read_amc,
    read_asf,
    read_bvh,
)
from humanlib.data import sources as S
from humanlib.data.amass import Z_UP_TO_Y_UP, amass_split_of
from humanlib.data.build import build_corpus
from humanlib.data.bvh import bvh_forward_kinematics
from humanlib.data.retarget import (
    calibration_segment,
    axis_angle_to_rotmat_np,
    direction_errors_deg,
    placeholder_rest_joints,
    resample_motion,
    smpl_forward_kinematics,
)
from humanlib.data.synthetic import write_smpl_as_asf_amc, write_smpl_as_bvh
from humanlib.skeleton import JOINT_NAMES, MIRROR_PERMUTATION, joint

J = placeholder_rest_joints()
AT_REST_BANDAI = ("spine2", "left_hand", "right_hand")
#: CMU keeps spine2 at rest too; the synthetic ASF's thorax spans spine2 -> spine3 but turns
#: with spine3, so a synthetic motion with a bent spine3 would not be a rigid CMU skeleton
AT_REST_CMU = ("spine2", "spine3", "left_hand", "right_hand")


def random_motion(seed: int, T: int = 6, sigma: float = 0.4, at_rest=AT_REST_BANDAI) -> tuple[np.ndarray, np.ndarray]:
    """A random SMPL motion whose first frame is the rest pose (the calibration reference)."""
    rng = np.random.default_rng(seed)
    poses = rng.normal(0.0, sigma, (T, 24, 3))
    poses[0] = 0.0
    for name in at_rest:
        poses[:, joint(name)] = 0.0
    transl = rng.normal(0.0, 0.3, (T, 3))
    transl[0] = 0.0
    return poses, transl


def rotation_error_deg(R1: np.ndarray, R2: np.ndarray) -> np.ndarray:
    cos = (np.trace(np.swapaxes(R1, -1, -2) @ R2, axis1=-2, axis2=-1) - 1.0) / 2.0
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


# ----------------------------------------------------------------------------- BVH


def test_bvh_parse_and_euler_order(tmp_path):
    """One joint with channels Z X Y: rotations compose intrinsically as Rz @ Rx @ Ry."""
    text = """HIERARCHY
ROOT a
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT b
  {
    OFFSET 10 0 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 5 0 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.0333333
1 2 3 30 40 50 0 0 0
0 0 0 0 0 0 90 0 0
"""
    path = tmp_path / "tiny.bvh"
    path.write_text(text)
    m = read_bvh(path)
    assert m.names == ["a", "b"] and list(m.parents) == [-1, 0]
    assert m.frames.shape == (2, 9) and np.allclose(m.end_sites[1], [5, 0, 0])
    fk = bvh_forward_kinematics(m, scale=0.01)
    from scipy.spatial.transform import Rotation

    expected = Rotation.from_euler("ZXY", [30, 40, 50], degrees=True).as_matrix()
    assert np.allclose(fk.rotations[0, 0], expected)
    assert np.allclose(fk.positions[0, 0], [0.01, 0.02, 0.03])
    assert np.allclose(fk.positions[0, 1], [0.01, 0.02, 0.03] + expected @ [0.1, 0, 0])
    # frame 2: b turns 90 deg about z; its child offset would point along +y
    assert np.allclose(fk.rotations[1, 1] @ [1, 0, 0], [0, 1, 0], atol=1e-12)


def test_bvh_round_trip_recovers_pose(tmp_path):
    """SMPL pose -> Bandai-style BVH -> read -> calibrate -> retarget gives the pose back."""
    poses, transl = random_motion(1)
    write_smpl_as_bvh(tmp_path / "m.bvh", poses, transl, J)
    m = read_bvh(tmp_path / "m.bvh")
    cal = S.bandai_calibration(m, J, frame=0)
    src = S.bandai_source_motion(m)
    out = S.retarget(src, cal, S.leg_length(src.points[0]), repair_glitches=False)  # random frames: no motion
    err = rotation_error_deg(axis_angle_to_rotmat_np(poses), out.local_rotations)
    assert err.max() < 1e-3
    assert np.abs(out.transl - transl).max() < 1e-6


def test_bvh_round_trip_with_other_proportions(tmp_path):
    """A source with longer limbs: bone directions still come back (lengths do not matter)."""
    poses, transl = random_motion(2)
    J_src = J.copy()
    J_src[:, 1] = 0.5 + 1.15 * (J_src[:, 1] - 0.5)
    write_smpl_as_bvh(tmp_path / "m.bvh", poses, transl, J_src)
    m = read_bvh(tmp_path / "m.bvh")
    src = S.bandai_source_motion(m)
    out = S.retarget(src, S.bandai_calibration(m, J, 0), S.leg_length(src.points[0]), repair_glitches=False)
    _, P = smpl_forward_kinematics(out.local_rotations, J, out.transl)
    avail = ~np.isnan(src.points[0, :, 0])
    bones = S.validation_bones(avail)
    err = direction_errors_deg(src.points, P, bones)
    # a bone turned by its own driving joint comes back exactly; an offset bone that is not
    # (pelvis -> hips, spine3 -> collars) is off by no more than its rest-direction mismatch
    def angle(a: int, j: int) -> float:
        u, v = J_src[j] - J_src[a], J[j] - J[a]
        return float(np.degrees(np.arccos(np.clip(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v), -1, 1))))

    for k, (a, j) in enumerate(bones):
        segment = calibration_segment(JOINT_NAMES[a], S.BANDAI_CHILD_OVERRIDE)
        own = segment == (JOINT_NAMES[a], JOINT_NAMES[j])
        swing = angle(joint(segment[0]), joint(segment[1])) if segment else 0.0
        mismatch = angle(a, j) + swing  # the bone's own mismatch plus the driver's calibration swing
        assert err[:, k].max() < (1e-2 if own else mismatch + 1e-2), (JOINT_NAMES[a], JOINT_NAMES[j])


# ----------------------------------------------------------------------------- ASF/AMC


def test_asf_amc_round_trip(tmp_path):
    """SMPL pose -> CMU-style ASF/AMC (random bone axes) -> read -> retarget."""
    poses, transl = random_motion(3, at_rest=AT_REST_CMU)
    write_smpl_as_asf_amc(tmp_path / "s.asf", tmp_path / "s.amc", poses, transl, J)
    skel = read_asf(tmp_path / "s.asf")
    motion = read_amc(tmp_path / "s.amc", skel)
    assert motion.num_frames == len(poses)
    src = S.cmu_source_motion(skel, motion)
    out = S.retarget(src, S.cmu_calibration(skel, J, twist_snap=False), S.leg_length(S.cmu_source_motion(skel, None).points[0]),
                     repair_glitches=False)
    err = rotation_error_deg(axis_angle_to_rotmat_np(poses), out.local_rotations)
    # collars start at spine3 in CMU's layout and the synthetic head bone points straight up, so
    # those calibrations swing; every other joint is recovered exactly
    exact = [joint(n) for n in ("pelvis", "left_hip", "right_knee", "spine1", "spine2", "spine3", "neck",
                               "left_ankle", "right_foot", "left_elbow", "right_wrist")]
    assert err[:, exact].max() < 1e-3
    _, P = smpl_forward_kinematics(out.local_rotations, J, out.transl)
    avail = ~np.isnan(src.points[0, :, 0])
    bones = [(a, j) for a, j in S.validation_bones(avail) if np.linalg.norm(src.points[0, j] - src.points[0, a]) > 0.02]
    # CMU's clavicle starts at SMPL's spine3, not at SMPL's collar joint (no CMU point there), and
    # is calibrated on spine3 -> shoulder (sources.CMU_CHILD_OVERRIDE): that bone is not exact
    collar_bones = [(a, j) for a, j in bones if JOINT_NAMES[j].endswith("shoulder")]
    assert [JOINT_NAMES[a] for a, _ in collar_bones] == ["spine3", "spine3"]
    exact_bones = [b for b in bones if b not in collar_bones]
    assert direction_errors_deg(src.points, P, exact_bones).max() < 1e-2
    assert np.abs(out.transl - transl).max() < 1e-5


def test_asf_units_and_zero_pose(tmp_path):
    poses, transl = random_motion(4, T=2)
    write_smpl_as_asf_amc(tmp_path / "s.asf", tmp_path / "s.amc", poses, transl, J, length_scale=0.45)
    skel = read_asf(tmp_path / "s.asf")
    assert skel.length_unit_m == pytest.approx(0.0254 / 0.45)
    zero = S.cmu_source_motion(skel, None)
    # zero pose = the rest pose the file was written from (metres)
    assert np.allclose(zero.points[0, joint("left_knee")] - zero.points[0, joint("left_hip")],
                       J[joint("left_knee")] - J[joint("left_hip")], atol=1e-6)


# ----------------------------------------------------------------------------- bad input


def test_truncated_bvh_names_file_and_line(tmp_path):
    poses, transl = random_motion(5)
    write_smpl_as_bvh(tmp_path / "m.bvh", poses, transl, J)
    lines = (tmp_path / "m.bvh").read_text().splitlines()
    (tmp_path / "cut.bvh").write_text("\n".join(lines[:-2]) + "\n")
    with pytest.raises(BvhFormatError, match=r"cut\.bvh, line \d+: .*truncated"):
        read_bvh(tmp_path / "cut.bvh")
    (tmp_path / "head.bvh").write_text("\n".join(lines[:20]) + "\n")
    with pytest.raises(BvhFormatError, match=r"head\.bvh, line \d+"):
        read_bvh(tmp_path / "head.bvh")
    bad = lines.copy()
    bad[-1] = bad[-1].replace(bad[-1].split()[3], "abc", 1)
    (tmp_path / "nan.bvh").write_text("\n".join(bad) + "\n")
    with pytest.raises(BvhFormatError, match=rf"nan\.bvh, line {len(bad)}: .*not a number"):
        read_bvh(tmp_path / "nan.bvh")


def test_malformed_amc_and_asf_name_file_and_line(tmp_path):
    poses, transl = random_motion(6, T=3)
    write_smpl_as_asf_amc(tmp_path / "s.asf", tmp_path / "s.amc", poses, transl, J)
    skel = read_asf(tmp_path / "s.asf")
    lines = (tmp_path / "s.amc").read_text().splitlines()
    (tmp_path / "cut.amc").write_text("\n".join(lines[:-3]) + "\n")  # last frame misses bones
    with pytest.raises(AsfAmcFormatError, match=r"cut\.amc, line \d+: frame 3 lacks bones"):
        read_amc(tmp_path / "cut.amc", skel)
    bad = lines.copy()
    bad[5] = bad[5].split()[0] + " 1.0 x 2.0"
    (tmp_path / "bad.amc").write_text("\n".join(bad) + "\n")
    with pytest.raises(AsfAmcFormatError, match=r"bad\.amc, line 6: "):
        read_amc(tmp_path / "bad.amc", skel)
    asf = (tmp_path / "s.asf").read_text().splitlines()
    (tmp_path / "cut.asf").write_text("\n".join(asf[:30]) + "\n")
    with pytest.raises(AsfAmcFormatError, match=r"cut\.asf, line \d+"):
        read_asf(tmp_path / "cut.asf")


def _amass_file(path: Path, width: int, rate_key: str, T: int = 8, fps: float = 120.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    poses = rng.normal(0.0, 0.3, (T, width))
    np.savez(path, poses=poses, trans=rng.normal(0, 1, (T, 3)), betas=rng.normal(0, 1, 16),
             gender=np.array("neutral"), **{rate_key: np.array(fps)})
    return poses


@pytest.mark.parametrize("width,rate_key", [(156, "mocap_framerate"), (165, "mocap_frame_rate"), (156, "mocap_frame_rate"), (165, "mocap_framerate")])
def test_amass_loader_layouts(tmp_path, width, rate_key):
    raw = _amass_file(tmp_path / "m.npz", width, rate_key, fps=60.0)
    m = load_amass_npz(tmp_path / "m.npz", y_up=False)
    assert m.poses.shape == (8, 24, 3) and m.poses.dtype == np.float32 and m.fps == 60.0
    assert np.allclose(m.poses[:, :22].reshape(8, 66), raw[:, :66], atol=1e-6)
    assert np.all(m.poses[:, 22:] == 0)  # SMPL's hand joints at rest
    assert m.model_type == {156: "SMPL-H", 165: "SMPL-X"}[width]
    up = load_amass_npz(tmp_path / "m.npz", y_up=True)
    R = axis_angle_to_rotmat_np(up.poses[:, 0].astype(np.float64))
    assert np.allclose(R, Z_UP_TO_Y_UP @ axis_angle_to_rotmat_np(raw[:, :3]), atol=1e-5)
    assert np.allclose(up.poses[:, 1:], m.poses[:, 1:])
    assert np.allclose(up.transl, m.transl @ Z_UP_TO_Y_UP.T, atol=1e-5)


def test_amass_bad_files_name_key(tmp_path):
    np.savez(tmp_path / "nokey.npz", poses=np.zeros((3, 156)), mocap_framerate=np.array(30.0))
    with pytest.raises(AmassFormatError, match=r"nokey\.npz: missing key 'trans'"):
        load_amass_npz(tmp_path / "nokey.npz")
    np.savez(tmp_path / "norate.npz", poses=np.zeros((3, 156)), trans=np.zeros((3, 3)))
    with pytest.raises(AmassFormatError, match=r"norate\.npz: missing key 'mocap_framerate' or 'mocap_frame_rate'"):
        load_amass_npz(tmp_path / "norate.npz")
    np.savez(tmp_path / "wide.npz", poses=np.zeros((3, 100)), trans=np.zeros((3, 3)), mocap_framerate=np.array(30.0))
    with pytest.raises(AmassFormatError, match=r"wide\.npz: key 'poses' has shape \(3, 100\)"):
        load_amass_npz(tmp_path / "wide.npz")
    np.savez(tmp_path / "frames.npz", poses=np.zeros((3, 156)), trans=np.zeros((4, 3)), mocap_framerate=np.array(30.0))
    with pytest.raises(AmassFormatError, match=r"frames\.npz: key 'trans' has shape"):
        load_amass_npz(tmp_path / "frames.npz")
    _amass_file(tmp_path / "ok.npz", 156, "mocap_framerate")
    (tmp_path / "cut.npz").write_bytes((tmp_path / "ok.npz").read_bytes()[:300])
    with pytest.raises(AmassFormatError, match=r"cut\.npz"):
        load_amass_npz(tmp_path / "cut.npz")


def test_load_corpus_reads_amass_when_set(tmp_path, monkeypatch):
    """HUMANLIB_AMASS_DIR switches load_corpus to AMASS, same return type, VPoser's split."""
    amass = tmp_path / "amass"
    for dataset, name in (("CMU", "01/a_poses.npz"), ("HumanEva", "S1/b_poses.npz"), ("Transitions", "t/c_poses.npz")):
        (amass / dataset / name).parent.mkdir(parents=True, exist_ok=True)
        _amass_file(amass / dataset / name, 156, "mocap_framerate", T=240, fps=120.0)
    np.savez(amass / "CMU" / "01" / "shape.npz", betas=np.zeros(16))
    monkeypatch.setenv("HUMANLIB_AMASS_DIR", str(amass))
    monkeypatch.setenv("HUMANLIB_CACHE_DIR", str(tmp_path / "cache"))
    train = load_corpus("train")
    assert isinstance(train, MotionCorpus) and train.origin.startswith("AMASS")
    assert train.poses.shape == (20, 24, 3) and train.poses.dtype == torch.float32  # 240 frames at 120 -> 10 fps
    assert [c.source for c in train.clips] == ["amass/CMU"]
    test = load_corpus("test")
    assert test.poses.shape[0] == 60 and test.fps == 30.0
    assert load_corpus("val").clips[0].source == "amass/HumanEva"
    assert amass_split_of("KIT") == "train" and amass_split_of("SSM_synced") == "test"
    # the second call reads the cache: same data
    assert len(list((tmp_path / "cache").glob("amass-train-*.npz"))) == 1
    again = load_corpus("train")
    assert torch.equal(again.poses, train.poses) and again.clips == train.clips


# ----------------------------------------------------------------------------- resampling, mirroring


def test_resample_integer_and_fractional():
    rng = np.random.default_rng(7)
    R = axis_angle_to_rotmat_np(rng.normal(0, 0.5, (13, 2, 3)))
    tr = rng.normal(0, 1, (13, 3))
    R4, t4 = resample_motion(R, tr, 120.0, 30.0)
    assert np.allclose(R4, R[::4]) and np.allclose(t4, tr[::4])
    R2, t2 = resample_motion(R, tr, 20.0, 30.0)  # 0.6 s of motion -> 19 frames
    assert R2.shape == (19, 2, 3, 3)
    assert np.allclose(R2[::3], R[::2], atol=1e-9) and np.allclose(t2[::3], tr[::2])


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, (3, 24, 3), elements=st.floats(-2.0, 2.0)))
def test_mirror_twice_is_identity(poses):
    once, _ = mirror_poses(poses)
    twice, _ = mirror_poses(once)
    assert np.array_equal(twice, poses)


def test_mirror_reflects_forward_kinematics():
    """Mirrored pose on a symmetric body = the reflection of the posed joints."""
    rng = np.random.default_rng(8)
    poses = rng.normal(0, 0.5, (4, 24, 3))
    transl = rng.normal(0, 0.5, (4, 3))
    Jsym = J.copy()
    assert np.allclose(Jsym[list(MIRROR_PERMUTATION)] * [-1, 1, 1], Jsym)  # placeholder is symmetric
    _, P = smpl_forward_kinematics(axis_angle_to_rotmat_np(poses), Jsym, transl)
    mp, mt = mirror_poses(poses, transl)
    _, Pm = smpl_forward_kinematics(axis_angle_to_rotmat_np(mp), Jsym, mt)
    assert np.allclose(Pm, (P * [-1, 1, 1])[:, list(MIRROR_PERMUTATION)], atol=1e-9)
    tp, tt = mirror_poses(torch.from_numpy(poses), torch.from_numpy(transl))
    assert isinstance(tp, torch.Tensor) and np.allclose(tp.numpy(), mp) and np.allclose(tt.numpy(), mt)
    with pytest.raises(ValueError, match=r"\(\.\.\., 24, 3\)"):
        mirror_poses(np.zeros((2, 21, 3)))


# ----------------------------------------------------------------------------- the builder


def _tiny_raw(root: Path) -> Path:
    """A raw folder in the archives' unpacked layout, with one synthetic clip per source."""
    (root / "subjects" / "01").mkdir(parents=True)
    poses, transl = random_motion(9, T=16, sigma=0.2, at_rest=("left_hand", "right_hand"))
    write_smpl_as_asf_amc(root / "subjects/01/01.asf", root / "subjects/01/01_01.amc", poses, transl, J)
    data = root / "dataset" / "Bandai-Namco-Research-Motiondataset-2" / "data"
    data.mkdir(parents=True)
    for name, seed in (("dataset-2_walk_normal_001", 10), ("dataset-2_run_masculine_001", 11)):
        poses, transl = random_motion(seed, T=12, sigma=0.2)
        write_smpl_as_bvh(data / f"{name}.bvh", poses, transl, J)
    return root


# the tiny clips' frames are independent random poses: the repair calls them glitches and the
# consistency checks then warn (tested on its own below)
@pytest.mark.filterwarnings("ignore::humanlib.data.build.CorpusConsistencyWarning")
def test_build_corpus_tiny_deterministic_and_atomic(tmp_path, monkeypatch):
    monkeypatch.setattr("humanlib.data.build.target_rest_joints", lambda: (J, "placeholder (test)"))
    raw = _tiny_raw(tmp_path / "raw")
    out = tmp_path / "corpus"
    report = build_corpus(raw, out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert {s["split"] for s in manifest["shards"]} == {"train", "test"}
    train = load_corpus("train", directory=out, use_amass=False)
    assert train.poses.shape == (2 + 4, 24, 3)  # CMU: 16 frames @120 -> 4 @30 -> 2 @10; Bandai: 12 @30 -> 4 @10
    test = load_corpus("test", directory=out, use_amass=False)
    assert test.clips[0].style == "masculine" and test.fps == 30.0 and len(test) == 12
    with pytest.raises(CorpusError, match="no clips for split 'val'"):
        load_corpus("val", directory=out, use_amass=False)
    assert report["direction_error_deg"]["bandai-namco"]["all_bones_mean"] >= 0
    # deterministic: a second build gives byte-identical shards
    first = {s["file"]: s["sha256"] for s in manifest["shards"]}
    build_corpus(raw, tmp_path / "again")
    second = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert {s["file"]: s["sha256"] for s in second["shards"]} == first
    # atomic: a broken clip fails the build and leaves the previous corpus as it was
    bad = raw / "dataset/Bandai-Namco-Research-Motiondataset-2/data/dataset-2_walk_sad_001.bvh"
    bad.write_text("\n".join((raw / "dataset/Bandai-Namco-Research-Motiondataset-2/data/dataset-2_walk_normal_001.bvh").read_text().splitlines()[:-3]))
    with pytest.raises(BvhFormatError, match="dataset-2_walk_sad_001.bvh"):
        build_corpus(raw, out)
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again", "corpus", "raw"]


def test_build_corpus_consistency_warns_or_fails_in_strict_mode(tmp_path, monkeypatch):
    from humanlib.data.build import CorpusConsistencyError, CorpusConsistencyWarning

    monkeypatch.setattr("humanlib.data.build.target_rest_joints", lambda: (J, "placeholder (test)"))
    monkeypatch.setattr("humanlib.data.corpus_checks.CorpusChecks.problems", lambda self: ["the ankles differ"])
    raw = _tiny_raw(tmp_path / "raw")
    with pytest.raises(CorpusConsistencyError, match="the ankles differ; nothing was written"):
        build_corpus(raw, tmp_path / "strict", strict=True)
    assert not (tmp_path / "strict").exists()
    with pytest.warns(CorpusConsistencyWarning, match="the ankles differ"):
        report = build_corpus(raw, tmp_path / "warned")
    assert report["consistency"]["passed"] is False and report["consistency"]["problems"] == ["the ankles differ"]
    written = json.loads((tmp_path / "warned" / "retarget_report.json").read_text())
    assert set(written["consistency"]) >= {"walking", "feet", "single_frame_jumps", "passed"}


def test_build_corpus_without_raw_data_fails_clearly(tmp_path):
    with pytest.raises(CorpusError, match="raw mocap folder not found"):
        build_corpus(tmp_path / "nowhere", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="holds neither subjects/ nor"):
        build_corpus(tmp_path / "empty", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_load_corpus_bad_split():
    with pytest.raises(ValueError, match="split must be one of"):
        load_corpus("training")


def test_build_corpus_cli(tmp_path):
    import argparse

    from humanlib.commands.build_corpus import add_subcommand

    parser = argparse.ArgumentParser(prog="humanlib")
    add_subcommand(parser.add_subparsers())
    args = parser.parse_args(["build-corpus", "--raw", str(tmp_path / "none"), "--out", str(tmp_path / "out")])
    with pytest.raises(CorpusError, match="raw mocap folder not found"):  # the CLI prints it in one line
        args.func(args)


def test_skeleton_animation_frames_and_bad_input():
    from humanlib.data.figures import skeleton_animation

    rng = np.random.default_rng(12)
    poses = rng.normal(0, 0.2, (50, 24, 3))
    _, P = smpl_forward_kinematics(axis_angle_to_rotmat_np(poses), J)
    fig = skeleton_animation(P, fps=10.0, max_frames=20)
    assert len(fig.frames) == 20 and len(fig.layout.sliders[0].steps) == 20
    with pytest.raises(ValueError, match=r"\(T, 24, 3\)"):
        skeleton_animation(P[:, :10], fps=10.0)


@pytest.mark.filterwarnings("ignore::humanlib.data.build.CorpusConsistencyWarning")  # random synthetic frames
def test_load_corpus_corrupt_shard_names_file(tmp_path, monkeypatch):
    monkeypatch.setattr("humanlib.data.build.target_rest_joints", lambda: (J, "placeholder (test)"))
    out = tmp_path / "corpus"
    build_corpus(_tiny_raw(tmp_path / "raw"), out)
    shard = next(out.glob("train-*.npz"))
    shard.write_bytes(shard.read_bytes()[:200])
    with pytest.raises(CorpusError, match=rf"{shard.name} cannot be read"):
        load_corpus("train", directory=out, use_amass=False)
    with pytest.raises(CorpusError, match="no motion corpus at"):
        load_corpus("train", directory=tmp_path / "missing", use_amass=False)
