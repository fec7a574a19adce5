"""Writing SMPL motions out as source-like mocap files (BVH and ASF/AMC).

Used by the tests for round trips (an SMPL pose, expressed on a source-like skeleton, read
back and retargeted, must give the pose back) and handy for looking at corpus motions in any
BVH viewer. The BVH rig copies the Bandai-Namco layout (joint names, a ``joint_Root`` above
``Hips``, bone-aligned local frames with the bone along +x, 6 channels ``Xposition Yposition
Zposition Zrotation Xrotation Yrotation``); the ASF/AMC skeleton copies CMU's bone names, with
arbitrary local ``axis`` frames to exercise the ``C M C^T`` convention.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from humanlib._validate import check_output_file, check_positive
from humanlib.data._checks import as_array
from humanlib.data.asf_amc import INCH
from humanlib.data.retarget import axis_angle_to_rotmat_np, rest_bone_directions, smpl_forward_kinematics
from humanlib.data.sources import BANDAI_CHILD_OVERRIDE, BANDAI_JOINTS, CMU_DRIVERS, twist_reference
from humanlib.skeleton import NUM_JOINTS, joint


def _check_output(path: object, name: str) -> Path:
    return check_output_file(path, name, f"{name} (a motion file)")


def _check_motion(poses: object, transl: object, rest_joints: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    poses = as_array(poses, "poses", (None, NUM_JOINTS, 3), nonempty=True)
    transl = as_array(transl, "transl", (None, 3))
    if len(transl) != len(poses):
        raise ValueError(f"transl must have shape ({len(poses)}, 3) (one row per frame of poses); got {transl.shape}")
    return poses, transl, as_array(rest_joints, "rest_joints", (NUM_JOINTS, 3))

#: Bandai-Namco tree: joint -> parent (``joint_Root`` is the top).
BANDAI_PARENT = {
    "Hips": "joint_Root", "Spine": "Hips", "Chest": "Spine", "Neck": "Chest", "Head": "Neck",
    "Shoulder_L": "Chest", "UpperArm_L": "Shoulder_L", "LowerArm_L": "UpperArm_L", "Hand_L": "LowerArm_L",
    "Shoulder_R": "Chest", "UpperArm_R": "Shoulder_R", "LowerArm_R": "UpperArm_R", "Hand_R": "LowerArm_R",
    "UpperLeg_L": "Hips", "LowerLeg_L": "UpperLeg_L", "Foot_L": "LowerLeg_L", "Toes_L": "Foot_L",
    "UpperLeg_R": "Hips", "LowerLeg_R": "UpperLeg_R", "Foot_R": "LowerLeg_R", "Toes_R": "Foot_R",
}


def _bone_frames(rest_joints: np.ndarray) -> dict[str, np.ndarray]:
    """Rest frame of each Bandai-style joint: x along its calibration segment, y on the twist axis."""
    d = rest_bone_directions(rest_joints, BANDAI_CHILD_OVERRIDE)
    frames = {}
    for smpl, name in BANDAI_JOINTS.items():
        x = d[joint(smpl)]
        ref = twist_reference(smpl)
        y = ref - np.dot(ref, x) * x
        y /= np.linalg.norm(y)
        frames[name] = np.stack([x, y, np.cross(x, y)], axis=1)
    frames["joint_Root"] = np.eye(3)
    return frames


def write_smpl_as_bvh(path: str | Path, poses: np.ndarray, transl: np.ndarray, rest_joints: np.ndarray,
                      fps: float = 30.0, unit: float = 0.01) -> None:
    """Write an SMPL motion as a Bandai-Namco-style BVH file.

    Joints the rig lacks (spine2, the hands) must be at rest in ``poses`` for a faithful file.

    Args:
        path: output ``.bvh``.
        poses: ``(T, 24, 3)`` axis-angle.
        transl: ``(T, 3)`` metres.
        rest_joints: ``(24, 3)`` rest joints of the body the motion is on.
        fps: frame rate.
        unit: metres per file unit (0.01: centimetres).

    Raises:
        TypeError: an array is a torch tensor or not an array; ``path`` is not a path.
        ValueError: wrong shapes, an empty motion, NaN / inf, ``fps`` or ``unit`` not > 0.
        FileNotFoundError: the folder of ``path`` does not exist.
    """
    path = _check_output(path, "path")
    poses, transl, rest_joints = _check_motion(poses, transl, rest_joints)
    check_positive(fps, "fps")
    check_positive(unit, "unit")
    S, P = smpl_forward_kinematics(axis_angle_to_rotmat_np(poses), rest_joints, transl)
    F = _bone_frames(rest_joints)
    pos_of = {name: rest_joints[joint(smpl)] for smpl, name in BANDAI_JOINTS.items()}
    pos_of["joint_Root"] = np.zeros(3)
    names = ["joint_Root"] + list(BANDAI_PARENT)
    children = {n: [c for c, p in BANDAI_PARENT.items() if p == n] for n in names}
    offsets = {n: F[BANDAI_PARENT[n]].T @ (pos_of[n] - pos_of[BANDAI_PARENT[n]]) / unit for n in BANDAI_PARENT}
    offsets["joint_Root"] = np.zeros(3)
    order: list[str] = []
    lines = ["HIERARCHY"]

    def emit(name: str, depth: int) -> None:
        pad = "  " * depth
        lines.append(f"{pad}{'ROOT' if name == 'joint_Root' else 'JOINT'} {name}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {' '.join(f'{v:.6f}' for v in offsets[name])}")
        lines.append(f"{pad}  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation")
        order.append(name)
        for c in children[name]:
            emit(c, depth + 1)
        if not children[name]:
            lines.extend([f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET 0 0 0", f"{pad}  }}"])
        lines.append(f"{pad}}}")

    emit("joint_Root", 0)
    T = poses.shape[0]
    G = {"joint_Root": np.broadcast_to(np.eye(3), (T, 3, 3))}
    smpl_of = {name: smpl for smpl, name in BANDAI_JOINTS.items()}
    for name in BANDAI_PARENT:
        G[name] = S[:, joint(smpl_of[name])] @ F[name]
    cols = []
    for name in order:
        if name == "joint_Root":
            local = G[name]
            trans = np.zeros((T, 3))
        else:
            parent = BANDAI_PARENT[name]
            local = np.swapaxes(G[parent], 1, 2) @ G[name]
            if name == "Hips":
                trans = P[:, joint("pelvis")] / unit
            else:
                trans = np.broadcast_to(offsets[name], (T, 3))
        zxy = Rotation.from_matrix(local).as_euler("ZXY", degrees=True)  # intrinsic: Rz @ Rx @ Ry
        cols.append(np.concatenate([trans, zxy], axis=1))
    motion = np.concatenate(cols, axis=1)
    lines += ["MOTION", f"Frames: {T}", f"Frame Time: {1.0 / fps:.7f}"]
    lines += [" ".join(f"{v:.6f}" for v in row) for row in motion]
    Path(path).write_text("\n".join(lines) + "\n")


#: CMU bone -> (start SMPL joint, end: SMPL joint name or an offset from the start in metres).
_CMU_BONES: dict[str, tuple[str, str | tuple[float, float, float]]] = {}
for _s in ("l", "r"):
    _side = "left" if _s == "l" else "right"
    _CMU_BONES.update({
        f"{_s}hipjoint": ("pelvis", f"{_side}_hip"), f"{_s}femur": (f"{_side}_hip", f"{_side}_knee"),
        f"{_s}tibia": (f"{_side}_knee", f"{_side}_ankle"), f"{_s}foot": (f"{_side}_ankle", f"{_side}_foot"),
        f"{_s}toes": (f"{_side}_foot", (0.0, 0.0, 0.04)), f"{_s}clavicle": ("spine3", f"{_side}_shoulder"),
        f"{_s}humerus": (f"{_side}_shoulder", f"{_side}_elbow"), f"{_s}radius": (f"{_side}_elbow", "0.7"),
        f"{_s}wrist": (f"{_side}_elbow", f"{_side}_wrist"), f"{_s}hand": (f"{_side}_wrist", f"{_side}_hand"),
    })
_CMU_BONES.update({
    "lowerback": ("pelvis", "spine1"), "upperback": ("spine1", "spine2"), "thorax": ("spine2", "spine3"),
    "lowerneck": ("spine3", "neck"), "upperneck": ("neck", "head"), "head": ("head", (0.0, 0.1, 0.0)),
})
_CMU_PARENT = {
    "lhipjoint": "root", "lfemur": "lhipjoint", "ltibia": "lfemur", "lfoot": "ltibia", "ltoes": "lfoot",
    "rhipjoint": "root", "rfemur": "rhipjoint", "rtibia": "rfemur", "rfoot": "rtibia", "rtoes": "rfoot",
    "lowerback": "root", "upperback": "lowerback", "thorax": "upperback", "lowerneck": "thorax",
    "upperneck": "lowerneck", "head": "upperneck", "lclavicle": "thorax", "lhumerus": "lclavicle",
    "lradius": "lhumerus", "lwrist": "lradius", "lhand": "lwrist", "rclavicle": "thorax",
    "rhumerus": "rclavicle", "rradius": "rhumerus", "rwrist": "rradius", "rhand": "rwrist",
}


def write_smpl_as_asf_amc(asf_path: str | Path, amc_path: str | Path, poses: np.ndarray, transl: np.ndarray,
                          rest_joints: np.ndarray, seed: int = 0, length_scale: float = 0.45) -> None:
    """Write an SMPL motion as a CMU-style ASF skeleton (zero pose = the rest pose) and AMC motion.

    The radius/wrist pair splits SMPL's forearm (the wrist bone carries no extra rotation);
    collars start at spine3 as in CMU. Bone ``axis`` frames are random (seeded). The thorax spans
    spine2 -> spine3 but turns with spine3 (CMU's retargeting drives spine3 by it and keeps spine2
    at rest), so the file is a rigid skeleton only for motions with spine2 and spine3 at rest.

    Args:
        asf_path, amc_path: output files.
        poses: ``(T, 24, 3)`` axis-angle.
        transl: ``(T, 3)`` metres.
        rest_joints: ``(24, 3)`` rest joints of the body the motion is on.
        seed: seed of the random bone ``axis`` frames.
        length_scale: the ``:units length`` value (CMU: 0.45).

    Raises:
        TypeError: an array is a torch tensor or not an array, a path is not a path, ``seed``
            not an integer.
        ValueError: wrong shapes, an empty motion, NaN / inf, ``length_scale`` not > 0, ``seed`` < 0.
        FileNotFoundError: the folder of an output path does not exist.
    """
    asf_path = _check_output(asf_path, "asf_path")
    amc_path = _check_output(amc_path, "amc_path")
    poses, transl, J = _check_motion(poses, transl, rest_joints)
    check_positive(length_scale, "length_scale")
    check_positive(seed, "seed", integer=True, allow_zero=True)
    rng = np.random.default_rng(seed)
    unit = INCH / length_scale
    S, P = smpl_forward_kinematics(axis_angle_to_rotmat_np(poses), J, transl)
    seg = _cmu_segments(J)
    axes = {b: rng.uniform(-90, 90, size=3) for b in _CMU_PARENT}
    Path(asf_path).write_text(_asf_text(seg, axes, length_scale, unit))
    Path(amc_path).write_text(_amc_text(S, P, axes, unit))


def _cmu_segments(J: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each CMU bone's start and end point on the SMPL rest joints ``J``."""
    seg = {}
    for bone, (start, end) in _CMU_BONES.items():
        a = J[joint(start)]
        if isinstance(end, tuple):
            b = a + np.asarray(end)
        elif end == "0.7":
            side = "left" if bone[0] == "l" else "right"
            b = a + 0.7 * (J[joint(f"{side}_wrist")] - a)
        else:
            b = J[joint(end)]
        seg[bone] = (a, b)
    seg["lwrist"] = (seg["lradius"][1], J[joint("left_wrist")])
    seg["rwrist"] = (seg["rradius"][1], J[joint("right_wrist")])
    return seg


def _asf_text(seg: dict, axes: dict, length_scale: float, unit: float) -> str:
    """The ASF file: units, root, one block per bone (direction, length, axis, dof), hierarchy."""
    lines = [":version 1.10", ":name SYNTHETIC", ":units", "  mass 1.0", f"  length {length_scale}", "  angle deg",
             ":root", "   order TX TY TZ RX RY RZ", "   axis XYZ", "   position 0 0 0", "   orientation 0 0 0",
             ":bonedata"]
    for i, bone in enumerate(_CMU_PARENT, start=1):
        a, b = seg[bone]
        v = b - a
        length = np.linalg.norm(v)
        lines += ["  begin", f"     id {i}", f"     name {bone}",
                  f"     direction {' '.join(f'{x:.8f}' for x in v / length)}", f"     length {length / unit:.8f}",
                  f"     axis {' '.join(f'{x:.6f}' for x in axes[bone])} XYZ"]
        if not bone.endswith("hipjoint"):
            lines.append("    dof rx ry rz")
        lines.append("  end")
    lines += [":hierarchy", "  begin"]
    parents = sorted(set(_CMU_PARENT.values()), key=lambda p: (p != "root", p))
    for p in parents:
        lines.append(f"    {p} {' '.join(c for c, q in _CMU_PARENT.items() if q == p)}")
    lines += ["  end"]
    return "\n".join(lines) + "\n"


def _amc_text(S: np.ndarray, P: np.ndarray, axes: dict, unit: float) -> str:
    """The AMC file: per frame the root's position and Euler angles, then each bone's motion rotation."""
    # world rotation wanted for each bone, then its motion rotation M = C^T W_parent^T W C
    smpl_driver = {bone: name for name, bone in CMU_DRIVERS.items()}
    T = P.shape[0]
    W = {"root": S[:, joint("pelvis")]}
    for bone in _CMU_PARENT:
        if bone in smpl_driver:
            W[bone] = S[:, joint(smpl_driver[bone])]
        elif bone.endswith("radius"):
            W[bone] = S[:, joint(("left" if bone[0] == "l" else "right") + "_elbow")]
        else:  # hip joints (no dof) and the lower back follow their parent
            W[bone] = W[_CMU_PARENT[bone]]
    C = {b: Rotation.from_euler("xyz", axes[b], degrees=True).as_matrix() for b in _CMU_PARENT}
    out = [":FULLY-SPECIFIED", ":DEGREES"]
    euler = {}
    for bone in _CMU_PARENT:
        if bone.endswith("hipjoint"):
            continue
        M = C[bone].T @ np.swapaxes(W[_CMU_PARENT[bone]], 1, 2) @ W[bone] @ C[bone]
        euler[bone] = Rotation.from_matrix(M).as_euler("xyz", degrees=True)  # fixed axes: Rz Ry Rx
    root_euler = Rotation.from_matrix(W["root"]).as_euler("xyz", degrees=True)
    root_pos = P[:, joint("pelvis")] / unit
    for t in range(T):
        out.append(str(t + 1))
        out.append("root " + " ".join(f"{v:.6f}" for v in np.concatenate([root_pos[t], root_euler[t]])))
        for bone, e in euler.items():
            out.append(f"{bone} " + " ".join(f"{v:.6f}" for v in e[t]))
    return "\n".join(out) + "\n"


__all__ = ["write_smpl_as_asf_amc", "write_smpl_as_bvh"]
