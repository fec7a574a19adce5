"""Source consistency of the corpus: the measurement, the jump repair, the feet, the calibrations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from humanlib.data import consistency as C
from humanlib.data import sources as S
from humanlib.data.asf_amc import read_amc, read_asf
from humanlib.data.bvh import read_bvh
from humanlib.data.cleanup import repair_jumps
from humanlib.data.corpus_checks import CorpusChecks
from humanlib.data.retarget import (
    axis_angle_to_rotmat_np,
    mirror_poses,
    placeholder_rest_joints,
    retarget_rotations,
    rotmat_to_axis_angle_np,
    smpl_forward_kinematics,
)
from humanlib.data.synthetic import write_smpl_as_asf_amc, write_smpl_as_bvh
from humanlib.skeleton import BODY_JOINTS, NUM_JOINTS, joint

J = placeholder_rest_joints()


def walk_like(seed: int, T: int = 400, offset_deg: float = 0.0, joint_name: str = "left_ankle") -> np.ndarray:
    """``(T, 24, 3)`` poses scattered around one mean pose, optionally turned at one joint."""
    rng = np.random.default_rng(seed)
    mean = np.random.default_rng(0).normal(0.0, 0.3, (NUM_JOINTS, 3))
    R = axis_angle_to_rotmat_np(mean[None] + rng.normal(0.0, 0.15, (T, NUM_JOINTS, 3)))
    if offset_deg:
        R[:, joint(joint_name)] = R[:, joint(joint_name)] @ Rotation.from_euler("x", offset_deg, degrees=True).as_matrix()
    return rotmat_to_axis_angle_np(R)


def test_mean_rotation_of_a_symmetric_spread_is_its_centre():
    centre = Rotation.from_rotvec([0.3, -0.5, 0.8])
    deltas = Rotation.from_rotvec(np.concatenate([np.eye(3), -np.eye(3)]) * 0.4)
    R = (centre * deltas).as_matrix()
    assert C.rotation_angle_deg(C.mean_rotation(R), centre.as_matrix()) < 1e-6
    assert C.rotation_angle_deg(np.eye(3), Rotation.from_rotvec([0, 0, np.pi / 2]).as_matrix()) == pytest.approx(90.0)


def test_consistency_sees_a_known_offset_and_only_there():
    b1, b2 = walk_like(1), walk_like(2)
    same = C.cross_source_consistency(walk_like(3), b1, b2)
    assert same.passed and max(j.cross_deg for j in same.joints) < 3.0
    shifted = C.cross_source_consistency(walk_like(3, offset_deg=20.0), b1, b2)
    row = {j.joint: j for j in shifted.joints}
    assert row["left_ankle"].cross_deg == pytest.approx(20.0, abs=2.0)
    assert shifted.failing() == ["left_ankle"]
    assert C.cross_source_consistency(walk_like(3, offset_deg=3.0), b1, b2).passed  # within the 5 deg tolerance
    assert shifted.to_dict()["joints"]["left_ankle"]["passed"] is False


def test_consistency_tolerates_a_difference_the_source_has_itself():
    """Halves of B 15 deg apart (B's mean between them): A passes 12.5 deg from that mean, fails at 27.5."""
    b1, b2 = walk_like(1), walk_like(2, offset_deg=15.0, joint_name="neck")
    near = C.cross_source_consistency(walk_like(3, offset_deg=20.0, joint_name="neck"), b1, b2)
    far = C.cross_source_consistency(walk_like(3, offset_deg=35.0, joint_name="neck"), b1, b2)
    assert "neck" not in near.failing() and "neck" in far.failing()


def smooth_motion(T: int = 60, joints: int = 3) -> np.ndarray:
    t = np.linspace(0.0, 1.0, T)[:, None, None]
    axes = np.eye(3)[:joints][None]
    return Rotation.from_rotvec((t * axes * 1.2).reshape(-1, 3)).as_matrix().reshape(T, joints, 3, 3)


def test_jump_detection_and_repair_of_a_synthetic_glitch():
    clean = smooth_motion()
    broken = clean.copy()
    flip = Rotation.from_rotvec([0.0, 0.0, np.radians(170.0)]).as_matrix()
    broken[20, 1] = broken[20, 1] @ flip  # a single-frame jump (a CMU wrist)
    broken[40:43, 2] = broken[40:43, 2] @ flip  # a 3-frame glitch
    mask = C.single_frame_jumps(broken)
    assert np.argwhere(mask).tolist() == [[20, 1]]
    fixed, repaired = repair_jumps(broken, fps=120.0)
    assert np.argwhere(repaired).tolist() == [[20, 1], [40, 2], [41, 2], [42, 2]]
    assert C.rotation_angle_deg(fixed, clean).max() < 1e-6  # slerp across a uniform turn is the turn
    assert not C.single_frame_jumps(fixed).any()
    assert C.jump_summary(np.concatenate([broken, np.tile(np.eye(3), (60, 21, 1, 1))], axis=1)) == {
        "left_hip": {"frames": 1, "max_deg": 170.0}}


def test_repair_leaves_fast_smooth_motion_alone():
    fast = smooth_motion(T=30) @ np.eye(3)
    spin = Rotation.from_rotvec(np.arange(30)[:, None] * [0.0, np.radians(80.0), 0.0]).as_matrix()
    fast[:, 0] = spin  # 80 deg every frame at 30 fps: fast, but no glitch
    fixed, repaired = repair_jumps(fast, fps=30.0)
    assert not repaired.any() and np.allclose(fixed, fast)
    assert not C.single_frame_jumps(fast).any()


def test_foot_sliding_ratio_and_floor_height():
    T = 40
    src = np.zeros((T, NUM_JOINTS, 3))
    src[:, :, 1] = 0.5
    src[:, list(C.FOOT_JOINTS), 1] = 0.05  # planted feet
    src[:, list(C.FOOT_JOINTS), 2] = 0.01 * np.arange(T)[:, None]  # 0.3 m/s at 30 fps
    out = src.copy()
    out[:, :, 2] *= 2.0
    out[:, :, 1] += 0.07  # floating 7 cm
    s = C.foot_sliding(out, src, fps=30.0)
    assert s.ratio == pytest.approx(2.0) and s.source == pytest.approx(0.3)
    assert C.lowest_foot_height(out) - C.lowest_foot_height(src) == pytest.approx(0.07)


def _same_motion_in_both_formats(tmp_path, poses, transl):
    write_smpl_as_bvh(tmp_path / "m.bvh", poses, transl, J)
    write_smpl_as_asf_amc(tmp_path / "s.asf", tmp_path / "s.amc", poses, transl, J)
    bvh = read_bvh(tmp_path / "m.bvh")
    skel = read_asf(tmp_path / "s.asf")
    bandai = retarget_rotations(S.bandai_source_motion(bvh).driver_rotations, S.bandai_calibration(bvh, J, 0))
    cmu_src = S.cmu_source_motion(skel, read_amc(tmp_path / "s.amc", skel))
    cmu = retarget_rotations(cmu_src.driver_rotations, S.cmu_calibration(skel, J, twist_snap=False))
    return bandai, cmu


def test_both_calibrations_agree_at_rest_and_on_the_same_motion(tmp_path):
    """The same SMPL motion, written as a Bandai-Namco BVH and as a CMU ASF/AMC, retargets to
    the same rotations through both calibrations: rest gives rest, and the consistency check passes."""
    rng = np.random.default_rng(5)
    T = 40
    poses = rng.normal(0.0, 0.25, (T, NUM_JOINTS, 3))
    poses[0] = 0.0  # the Bandai-Namco calibration's reference frame: the rest pose
    for name in ("spine2", "spine3", "left_collar", "right_collar", "left_hand", "right_hand"):
        poses[:, joint(name)] = 0.0  # joints a rig lacks, and the CMU collars (calibrated on another segment)
    bandai, cmu = _same_motion_in_both_formats(tmp_path, poses, rng.normal(0.0, 0.1, (T, 3)))
    # the synthetic CMU head bone points straight up, SMPL's head continues the neck: it swings
    compared = tuple(j for j in BODY_JOINTS if j != joint("head"))
    rest_error = C.rotation_angle_deg(np.stack([bandai[0], cmu[0]])[:, list(compared)], np.eye(3))
    assert rest_error.max() < 1e-3
    result = C.cross_source_consistency(cmu, bandai[: T // 2], bandai[T // 2 :], joints=compared, tolerance_deg=0.5)
    spread = {j.joint: j.spread_deg for j in result.joints}
    cross = {j.joint: j.cross_deg for j in result.joints}
    assert result.passed, result.failing()
    assert max(cross.values()) < 1e-2 < max(spread.values())


def test_cmu_zero_pose_retargets_to_the_same_pose_with_either_twist_convention():
    """Snapping the twist changes only rotations about each calibrating segment: at the zero pose
    (the CMU reference) both calibrations give the same bone directions."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        poses = np.zeros((2, NUM_JOINTS, 3))
        write_smpl_as_asf_amc(Path(tmp) / "s.asf", Path(tmp) / "s.amc", poses, np.zeros((2, 3)), J)
        skel = read_asf(Path(tmp) / "s.asf")
    zero = S.cmu_source_motion(skel, None)
    for snap in (False, True):
        R = retarget_rotations(zero.driver_rotations, S.cmu_calibration(skel, J, twist_snap=snap))
        _, P = smpl_forward_kinematics(R, J)
        bones = [(joint("left_hip"), joint("left_knee")), (joint("left_shoulder"), joint("left_elbow")),
                 (joint("spine1"), joint("spine3"))]
        for a, b in bones:
            u, v = zero.points[0, b] - zero.points[0, a], P[0, b] - P[0, a]
            assert np.degrees(np.arccos(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v))) < 1e-3


def test_corpus_checks_report_and_problems():
    checks = CorpusChecks(J)
    rng = np.random.default_rng(0)
    for k, (group, split) in enumerate([("cmu", "test"), ("bandai-namco", "train"), ("bandai-namco", "test")]):
        poses = walk_like(k, T=30, offset_deg=30.0 if group == "cmu" else 0.0)
        R = axis_angle_to_rotmat_np(poses)
        transl = rng.normal(0, 0.01, (30, 3))
        _, P = smpl_forward_kinematics(R, J, transl)
        checks.add(group, f"clip{k}", True, split, poses[:, :22], transl, P + [0.0, 0.05, 0.0], 30.0)
    summary = checks.summary()
    assert summary["walking"]["result"]["failing"] == ["left_ankle"]
    assert summary["walking"]["groups_worst_joint"]["ankles"]["passed"] is False
    assert summary["feet"]["cmu"]["floor_minus_source_m"]["mean"] == pytest.approx(-0.05, abs=1e-3)
    problems = checks.problems()
    assert any("left_ankle" in p for p in problems) and any("3 cm" in p for p in problems)


def test_repair_of_a_drift_away_and_a_snap_back():
    """A joint that drifts away (10 deg a frame, possible) and snaps back in one frame (60 deg in
    1/120 s, impossible) is found by the backward pass."""
    clean = smooth_motion()
    broken = clean.copy()
    for k, t in enumerate(range(30, 36)):
        broken[t, 0] = broken[t, 0] @ Rotation.from_rotvec([0.0, np.radians(10.0 * (k + 1)), 0.0]).as_matrix()
    fixed, repaired = repair_jumps(broken, fps=120.0)
    # the glitch ends where the joint is back within half the snap (30 deg) of where it snaps to
    assert np.flatnonzero(repaired[:, 0]).tolist() == [32, 33, 34, 35] and not repaired[:, 1:].any()
    steps = C.rotation_angle_deg(fixed[1:], fixed[:-1])
    assert steps.max() < 25.0 < C.rotation_angle_deg(broken[1:], broken[:-1]).max()


def test_mirror_asymmetry_sees_a_one_sided_twist():
    poses = walk_like(4)
    symmetric = np.concatenate([poses, mirror_poses(poses)[0]])  # every pose and its mirror image
    assert max(C.mirror_asymmetry_deg(symmetric).values()) < 1e-6
    R = axis_angle_to_rotmat_np(symmetric)
    R[:, joint("right_elbow")] = R[:, joint("right_elbow")] @ Rotation.from_euler("x", 12.0, degrees=True).as_matrix()
    asym = C.mirror_asymmetry_deg(R)
    assert asym["elbow"] == pytest.approx(12.0, abs=1.0) and asym["knee"] < 1e-6
