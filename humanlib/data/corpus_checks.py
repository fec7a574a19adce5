"""The corpus's source-consistency checks, gathered clip by clip (by the build or from a corpus).

:class:`CorpusChecks` collects, for every clip it is given, what :mod:`humanlib.data.consistency`
measures: the walking poses of each source (CMU subject 03's walks against Bandai-Namco's
``walk`` clips, the latter split into train and held-out clips for the within-source spread),
the feet against the source's feet (floor height, sliding in ground contact), single-frame
jumps, and calibration-free limb angles of the walks from the source's joint positions.
:meth:`CorpusChecks.summary` is the ``consistency`` section of ``retarget_report.json``;
:meth:`CorpusChecks.problems` lists, one line each, what misses its target.
"""

from __future__ import annotations

import numpy as np

from humanlib.data import consistency as C
from humanlib.data.retarget import axis_angle_to_rotmat_np, smpl_forward_kinematics
from humanlib.skeleton import NUM_JOINTS

#: Joint groups reported together (left and right of a pair, and the spine).
JOINT_GROUPS: dict[str, tuple[str, ...]] = {
    "hips": ("left_hip", "right_hip"), "knees": ("left_knee", "right_knee"),
    "ankles": ("left_ankle", "right_ankle"), "feet": ("left_foot", "right_foot"),
    "spine": ("spine1", "spine2", "spine3"), "neck_head": ("neck", "head"),
    "collars": ("left_collar", "right_collar"), "shoulders": ("left_shoulder", "right_shoulder"),
    "elbows": ("left_elbow", "right_elbow"), "wrists": ("left_wrist", "right_wrist"),
}
#: The walking clips compared across sources.
WALK_CMU_SUBJECT = "03"
WALK_BANDAI_ACTIVITY = "walk"


def is_walk(group: str, subject: str, activity: str) -> bool:
    """Whether a clip is one of the compared walks (CMU subject 03, Bandai-Namco ``walk``)."""
    if group == "cmu":
        return subject == WALK_CMU_SUBJECT
    return activity == WALK_BANDAI_ACTIVITY


def _full_poses(poses: np.ndarray) -> np.ndarray:
    """Stored ``(T, 22, 3)`` (or full ``(T, 24, 3)``) poses -> ``(T, 24, 3)`` float64."""
    full = np.zeros((len(poses), NUM_JOINTS, 3))
    full[:, : poses.shape[1]] = np.asarray(poses, dtype=np.float64)[:, :NUM_JOINTS]
    return full


class CorpusChecks:
    """Collects the consistency measurements clip by clip.

    Args:
        rest_joints: ``(24, 3)`` target rest joints (for the SMPL feet).
    """

    def __init__(self, rest_joints: np.ndarray) -> None:
        self.J = np.asarray(rest_joints, dtype=np.float64)
        self.walks: dict[str, list[np.ndarray]] = {"cmu": [], "bandai-train": [], "bandai-held-out": []}
        self.walk_points: dict[str, list[np.ndarray]] = {"cmu": [], "bandai-namco": []}
        self.feet: dict[str, list[dict]] = {}
        self.jumps: dict[str, dict] = {}
        self.repaired: dict[str, int] = {}

    def add(self, group: str, name: str, walk: bool, split: str, poses: np.ndarray, transl: np.ndarray,
            source_points: np.ndarray, fps: float, repaired_frames: int = 0) -> None:
        """One clip: stored poses ``(T, 22 or 24, 3)``, ``transl (T, 3)``, source points ``(T, 24, 3)``
        already scaled to the target's size and at the poses' frame rate ``fps``."""
        full = _full_poses(poses)
        R = axis_angle_to_rotmat_np(full)
        _, P = smpl_forward_kinematics(R, self.J, np.asarray(transl, dtype=np.float64))
        floor = C.lowest_foot_height(P) - C.lowest_foot_height(source_points)
        row = {"clip": name, "floor_m": floor}
        if len(P) >= 2:
            s = C.foot_sliding(P, source_points, fps)
            row.update(slide=s.retargeted, slide_source=s.source, contact_steps=s.frames)
        self.feet.setdefault(group, []).append(row)
        for joint_name, v in C.jump_summary(R).items():
            g = self.jumps.setdefault(group, {}).setdefault(joint_name, {"clips": 0, "frames": 0, "max_deg": 0.0})
            g["clips"] += 1
            g["frames"] += v["frames"]
            g["max_deg"] = max(g["max_deg"], v["max_deg"])
        self.repaired[group] = self.repaired.get(group, 0) + int(repaired_frames)
        if walk:
            key = "cmu" if group == "cmu" else ("bandai-train" if split == "train" else "bandai-held-out")
            self.walks[key].append(full.astype(np.float32))
            self.walk_points["cmu" if group == "cmu" else "bandai-namco"].append(source_points.astype(np.float32))

    def walking(self) -> C.ConsistencyResult | None:
        """Cross-source consistency of the walks (None when a part has no walk)."""
        if not all(self.walks.values()):
            return None
        parts = [np.concatenate(self.walks[k]) for k in ("cmu", "bandai-train", "bandai-held-out")]
        return C.cross_source_consistency(*parts)

    def _feet_summary(self) -> dict:
        out = {}
        for group, rows in self.feet.items():
            floor = np.array([r["floor_m"] for r in rows])
            slid = [r for r in rows if r.get("contact_steps", 0) > 0 and r["slide_source"] > 0]
            steps = np.array([r["contact_steps"] for r in slid], dtype=float)
            ratios = np.array([r["slide"] / r["slide_source"] for r in slid])
            # pooled over every contact step of the group: a clip with little contact weighs little
            pooled = (float(np.sum(steps * [r["slide"] for r in slid]) / np.sum(steps * [r["slide_source"] for r in slid]))
                      if slid else None)
            out[group] = {
                "clips": len(rows),
                "floor_minus_source_m": {"mean": round(float(floor.mean()), 3), "min": round(float(floor.min()), 3),
                                         "max": round(float(floor.max()), 3)},
                "clips_floor_off_by_more_than_3cm": int(np.sum(np.abs(floor) > C.FLOOR_TOLERANCE_M)),
                "sliding_ratio": {"pooled": None if pooled is None else round(pooled, 3),
                                  "median": round(float(np.median(ratios)), 3) if ratios.size else None,
                                  "max": round(float(ratios.max()), 3) if ratios.size else None},
            }
        return out

    def summary(self) -> dict:
        """The report's ``consistency`` section (JSON-ready)."""
        walking = self.walking()
        groups = {}
        if walking is not None:
            rows = {j.joint: j for j in walking.joints}
            for g, names in JOINT_GROUPS.items():
                js = [rows[n] for n in names if n in rows]
                groups[g] = {"cross_deg": round(max(j.cross_deg for j in js), 1),
                             "spread_deg": round(max(j.spread_deg for j in js), 1), "passed": all(j.passed for j in js)}
        limbs = {k: C.limb_angles_deg(np.concatenate(v)) for k, v in self.walk_points.items() if v}
        asymmetry = {k: C.mirror_asymmetry_deg(np.concatenate(v)) for k, v in self.walks.items() if v}
        return {
            "walking": {
                "what": "per joint, the mean rotation (chordal mean) of CMU subject 03's walks against Bandai-Namco's "
                        "walk clips; spread = Bandai-Namco train walks against its val + test walks; a joint passes "
                        f"when cross <= spread + {C.TOLERANCE_DEG} deg",
                "result": walking.to_dict() if walking is not None else None,
                "groups_worst_joint": groups,
                "source_limb_angles_deg": limbs,
                "source_limb_angles_note": "from the source's joint positions, no calibration involved: a difference "
                                           "here is a difference of the performed activity, not of the retargeting",
                "mirror_asymmetry_deg": asymmetry,
                "mirror_asymmetry_note": "per left joint of each part, the angle between its mean rotation and the "
                                         "mirrored mean of its right partner: a one-sided calibration twist shows here",
            },
            "feet": self._feet_summary(),
            "feet_targets": {"floor_m": C.FLOOR_TOLERANCE_M, "sliding_ratio": C.SLIDING_TOLERANCE},
            "single_frame_jumps": {g: dict(sorted(v.items())) for g, v in self.jumps.items()},
            "repaired_glitch_frames_at_source_rate": self.repaired,
        }

    def problems(self) -> list[str]:
        """One line per missed target (empty: every check passes)."""
        out = []
        walking = self.walking()
        if walking is not None and not walking.passed:
            worst = sorted(walking.joints, key=lambda j: -j.excess_deg)[:5]
            out.append("walking differs between sources beyond the within-source spread + "
                       f"{C.TOLERANCE_DEG} deg at {len(walking.failing())} joints (worst: "
                       + ", ".join(f"{j.joint} {j.cross_deg:.1f} vs {j.spread_deg:.1f}" for j in worst) + ")")
        for group, s in self._feet_summary().items():
            if s["clips_floor_off_by_more_than_3cm"]:
                out.append(f"{group}: {s['clips_floor_off_by_more_than_3cm']} clips have their lowest foot point more "
                           f"than 3 cm from the source's (range {s['floor_minus_source_m']['min']:+.3f} .. "
                           f"{s['floor_minus_source_m']['max']:+.3f} m)")
            if (s["sliding_ratio"]["pooled"] or 0.0) > C.SLIDING_TOLERANCE:
                out.append(f"{group}: feet in contact slide {s['sliding_ratio']['pooled']:.2f}x the source's "
                           f"(target <= {C.SLIDING_TOLERANCE}x)")
        for group, joints in self.jumps.items():
            out.append(f"{group}: single-frame jumps remain at " + ", ".join(
                f"{k} ({v['clips']} clips, up to {v['max_deg']:.0f} deg)" for k, v in sorted(joints.items())))
        return out


__all__ = ["JOINT_GROUPS", "CorpusChecks", "is_walk"]
