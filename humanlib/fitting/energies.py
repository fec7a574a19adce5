"""SMPLify's energy terms, each a pure function returning one energy per frame ``(B,)``.

``E(beta, theta) = E_J + lambda_theta E_theta + lambda_a E_a + lambda_sp E_sp + lambda_beta E_beta``

* :func:`geman_mcclure` and :func:`keypoint_energy`: ``E_J``, the robust 2D reprojection term;
* :func:`angle_energy`: ``E_a``, the penalty on elbows and knees bending the unnatural way;
* :class:`CapsuleBody` and :func:`interpenetration_energy`: ``E_sp``, spheres along the limbs
  and torso that must not sink into each other;
* :func:`shape_energy`: ``E_beta = ||beta||^2``.

The pose prior ``E_theta`` lives in :mod:`humanlib.priors`. How the weights combine (squared
or not) is decided once, in :mod:`humanlib.fitting.smplify`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from humanlib._validate import check_positive, check_same_device, check_tensor
from humanlib.skeleton import JOINT_NAMES, NUM_JOINTS, joint

# --------------------------------------------------------------------------- E_J


def geman_mcclure(squared_residual: torch.Tensor, sigma: float) -> torch.Tensor:
    """Geman-McClure robust penalty ``rho(r) = sigma^2 r^2 / (sigma^2 + r^2)`` of squared residuals.

    ``rho`` behaves like ``r^2`` for ``|r| << sigma`` and saturates at ``sigma^2`` for
    ``|r| >> sigma``, so a keypoint that is badly wrong pulls with bounded force (its
    derivative ``2 r sigma^4 / (sigma^2 + r^2)^2`` vanishes as ``r`` grows).

    Args:
        squared_residual: ``(...)`` values ``r^2 >= 0`` (e.g. squared pixel distances).
        sigma: scale in the residual's units (SMPLify: 100 px).

    Returns:
        ``(...)`` penalties in ``[0, sigma^2)`` (NaN where the residual is NaN).

    Raises:
        TypeError: ``squared_residual`` is not a tensor, ``sigma`` not a number.
        ValueError: a non-floating or negative ``squared_residual``, or ``sigma`` not finite and > 0.
    """
    check_tensor(squared_residual, "squared_residual", finite=False)
    check_positive(sigma, "sigma")
    if squared_residual.device.type != "meta" and bool((squared_residual < 0).any()):
        raise ValueError("squared_residual must be >= 0 (a squared distance); got negative values")
    return _geman_mcclure(squared_residual, sigma)


def _geman_mcclure(squared_residual: torch.Tensor, sigma: float) -> torch.Tensor:
    s2 = sigma * sigma
    return s2 * squared_residual / (s2 + squared_residual)


def check_keypoints(keypoints: torch.Tensor, confidence: torch.Tensor, *, finite: bool = True) -> None:
    """Raise unless keypoints are ``(B, 24, 2)`` and confidences ``(B, 24)``, floating, on one device, confidences >= 0.

    Args:
        keypoints: ``(B, 24, 2)`` pixels.
        confidence: ``(B, 24)`` weights.
        finite: also require the keypoints of every joint with positive confidence to be finite
            (NaN at a joint of confidence 0 is allowed: that joint is missing anyway).

    Raises:
        TypeError: either is not a tensor.
        ValueError: wrong shapes, a non-floating dtype, another device, non-finite or negative
            confidences, non-finite observed keypoints.
    """
    check_tensor(keypoints, "keypoints", (None, NUM_JOINTS, 2), finite=False,
                 hint="Pixels, one row per SMPL joint; set the confidence of unobserved joints to 0.")
    if isinstance(confidence, torch.Tensor) and confidence.shape != keypoints.shape[:2]:
        raise ValueError(
            f"confidence must have shape {tuple(keypoints.shape[:2])} to match keypoints; got {tuple(confidence.shape)}"
        )
    check_tensor(confidence, "confidence", (None, NUM_JOINTS), finite=False)
    check_same_device(keypoints, "keypoints", confidence=confidence)
    if keypoints.device.type == "meta":
        return
    if not bool(torch.isfinite(confidence).all()) or bool((confidence < 0).any()):
        raise ValueError("confidence must be finite and >= 0 (0 = joint not observed)")
    if finite:
        bad = (~torch.isfinite(keypoints).all(-1)) & (confidence > 0)
        if bool(bad.any()):
            frame, j = (int(i) for i in torch.nonzero(bad)[0])
            raise ValueError(
                f"keypoints hold {int(bad.sum())} non-finite (NaN or inf) joint(s) with positive confidence, first "
                f"frame {frame}, joint {j} ({JOINT_NAMES[j]}); set the confidence of missing joints to 0, or pass "
                "both through humanlib.fitting.smplify.sanitize_keypoints to treat non-finite keypoints as missing"
            )


def keypoint_energy(
    projected: torch.Tensor, keypoints: torch.Tensor, confidence: torch.Tensor, sigma: float = 100.0
) -> torch.Tensor:
    """``E_J = sum_i w_i rho(Pi_K(J_i) - J_est,i)`` per frame.

    Args:
        projected: ``(B, J, 2)`` projected model joints (pixels).
        keypoints: ``(B, J, 2)`` observed keypoints (pixels); entries with zero confidence
            are ignored (they may hold any finite value).
        confidence: ``(B, J)`` per-joint weights ``w_i``.
        sigma: Geman-McClure scale (pixels).

    Returns:
        ``(B,)`` energies (pixels^2); NaN where a keypoint or projection is NaN.

    Raises:
        TypeError, ValueError: wrong types, shapes (``projected`` and ``keypoints`` must match,
            ``confidence`` be their ``(B, J)``), dtypes or devices; ``sigma`` not finite and > 0.
    """
    check_tensor(projected, "projected", (None, None, 2), finite=False, hint="Projected joints in pixels.")
    check_tensor(keypoints, "keypoints", tuple(projected.shape), finite=False, hint="It must match projected.")
    check_tensor(confidence, "confidence", tuple(projected.shape[:2]), finite=False, hint="One weight per joint.")
    check_same_device(projected, "projected", keypoints=keypoints, confidence=confidence)
    check_positive(sigma, "sigma")
    return keypoint_energy_unchecked(projected, keypoints, confidence, sigma)


def keypoint_energy_unchecked(
    projected: torch.Tensor, keypoints: torch.Tensor, confidence: torch.Tensor, sigma: float = 100.0
) -> torch.Tensor:
    """:func:`keypoint_energy` without its checks, for an optimiser's inner loop (inputs checked once, before it)."""
    sq = (projected - keypoints).square().sum(-1)
    return (confidence * _geman_mcclure(sq, sigma)).sum(-1)


# --------------------------------------------------------------------------- E_a


@dataclass(frozen=True)
class BendingJoint:
    """A hinge-like joint and the axis-angle component that measures its bending.

    ``exp(sign * theta[axis])`` is small when the joint bends the natural way and grows
    when it hyper-extends. The signs follow from the body frame (+X the body's left, +Y up,
    +Z forward) with the arms along +-X and the legs along -Y at rest: flexing the left elbow
    (hand forward) is a negative rotation about +Y, the right elbow a positive one, and a
    knee (foot backward) a positive rotation about +X. A test checks them on the body model.
    """

    name: str
    axis: int
    sign: float

    def __post_init__(self) -> None:
        if self.name not in JOINT_NAMES:
            raise ValueError(f"BendingJoint name must be an SMPL joint name (humanlib.skeleton.JOINT_NAMES); got {self.name!r}")
        if isinstance(self.axis, bool) or self.axis not in (0, 1, 2):
            raise ValueError(f"BendingJoint axis must be 0, 1 or 2 (x, y, z); got {self.axis!r}")
        if isinstance(self.sign, bool) or self.sign not in (1.0, -1.0):
            raise ValueError(f"BendingJoint sign must be 1.0 or -1.0; got {self.sign!r}")

    @property
    def index(self) -> int:
        """SMPL joint index."""
        return joint(self.name)


#: The joints of ``E_a`` (SMPLify's ``[55, 58, 12, 15]`` with signs ``[1, -1, -1, -1]``, named).
BENDING_JOINTS: tuple[BendingJoint, ...] = (
    BendingJoint("left_elbow", axis=1, sign=1.0),
    BendingJoint("right_elbow", axis=1, sign=-1.0),
    BendingJoint("left_knee", axis=0, sign=-1.0),
    BendingJoint("right_knee", axis=0, sign=-1.0),
)


def angle_energy(pose: torch.Tensor, joints: tuple[BendingJoint, ...] = BENDING_JOINTS) -> torch.Tensor:
    """``E_a = sum_i exp(s_i theta_i)`` over elbows and knees, as the paper writes it.

    SMPLify's code is stronger: each joint is a residual ``alpha exp(s_i theta_i)`` with
    ``alpha = 10``, squared by its least-squares solver, i.e. ``100 exp(2 s_i theta_i)`` per
    joint times the squared stage weight -- 100 to 165 times this energy for bends of
    0 to 0.5 rad. We keep the paper's form. Matching the code was tried: it made the flip
    test choose the wrong facing on a side view (total energy 557 for the pair of fits
    against 286 for the facing fit alone), because the two hypotheses share one L-BFGS line
    search and the much stiffer term slows both (see :mod:`humanlib.fitting.smplify`).

    Args:
        pose: ``(B, 24, 3)`` full SMPL pose (axis-angle, radians).
        joints: the bending joints with their axis and sign.

    Returns:
        ``(B,)`` energies (``len(joints)`` at the rest pose; NaN where the pose is NaN).

    Raises:
        TypeError, ValueError: ``pose`` not a floating ``(B, 24, 3)`` tensor, ``joints`` not a
            tuple of :class:`BendingJoint`.
    """
    check_tensor(pose, "pose", (None, NUM_JOINTS, 3), finite=False, hint="Full SMPL pose, axis-angle.")
    if not isinstance(joints, (tuple, list)) or not all(isinstance(j, BendingJoint) for j in joints):
        raise TypeError(f"joints must be a tuple of BendingJoint (e.g. BENDING_JOINTS); got {joints!r}")
    return _angle_energy_unchecked(pose, *_bending_indices(joints, pose))


def _bending_indices(joints: tuple[BendingJoint, ...], like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(joint index, axis, sign)`` tensors of ``joints`` on ``like``'s device (the sign in its dtype)."""
    idx = torch.tensor([j.index for j in joints], dtype=torch.long, device=like.device)
    axis = torch.tensor([j.axis for j in joints], dtype=torch.long, device=like.device)
    sign = torch.tensor([j.sign for j in joints], dtype=like.dtype, device=like.device)
    return idx, axis, sign


def _angle_energy_unchecked(pose: torch.Tensor, idx: torch.Tensor, axis: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
    """:func:`angle_energy` of :func:`_bending_indices`' tensors, without checks (the fitting loop's inner step)."""
    return torch.exp(sign * pose[:, idx, axis]).sum(-1)


# --------------------------------------------------------------------------- E_beta


def shape_energy(betas: torch.Tensor) -> torch.Tensor:
    """``E_beta = ||beta||^2`` per frame, ``(B,)`` (the open model's betas are N(0, I) by construction).

    Args:
        betas: ``(B, K)`` shape coefficients.

    Raises:
        TypeError, ValueError: ``betas`` not a floating ``(B, K)`` tensor (NaN gives NaN).
    """
    check_tensor(betas, "betas", (None, None), finite=False, hint="One row of shape coefficients per frame.")
    return betas.square().sum(-1)


# --------------------------------------------------------------------------- E_sp


@dataclass(frozen=True)
class Capsule:
    """A body part approximated by spheres on the segment from joint ``start`` to joint ``end``."""

    name: str
    start: str
    end: str

    def __post_init__(self) -> None:
        for field_name in ("start", "end"):
            value = getattr(self, field_name)
            if value not in JOINT_NAMES:
                raise ValueError(f"Capsule {field_name} must be an SMPL joint name (humanlib.skeleton.JOINT_NAMES); "
                                 f"got {value!r}")


#: Parts carrying spheres. Head, hands and feet only absorb mesh vertices when radii are
#: measured (``SINK_CAPSULES``); they carry no spheres.
CAPSULES: tuple[Capsule, ...] = (
    Capsule("lower_torso", "pelvis", "spine2"),
    Capsule("upper_torso", "spine2", "neck"),
    Capsule("left_upper_arm", "left_shoulder", "left_elbow"),
    Capsule("left_forearm", "left_elbow", "left_wrist"),
    Capsule("right_upper_arm", "right_shoulder", "right_elbow"),
    Capsule("right_forearm", "right_elbow", "right_wrist"),
    Capsule("left_thigh", "left_hip", "left_knee"),
    Capsule("left_shin", "left_knee", "left_ankle"),
    Capsule("right_thigh", "right_hip", "right_knee"),
    Capsule("right_shin", "right_knee", "right_ankle"),
)
SINK_CAPSULES: tuple[Capsule, ...] = (
    Capsule("head", "neck", "head"),
    Capsule("left_shoulder_blade", "left_collar", "left_shoulder"),
    Capsule("right_shoulder_blade", "right_collar", "right_shoulder"),
    Capsule("left_hand", "left_wrist", "left_hand"),
    Capsule("right_hand", "right_wrist", "right_hand"),
    Capsule("left_foot", "left_ankle", "left_foot"),
    Capsule("right_foot", "right_ankle", "right_foot"),
)

#: Pairs of parts that must not interpenetrate. Parts that meet at a joint (and the upper
#: arms with the upper torso, the thighs with the lower torso, which touch at rest) are left out.
COLLISION_PAIRS: tuple[tuple[str, str], ...] = tuple(
    [(f"{s}_forearm", t) for s in ("left", "right") for t in ("lower_torso", "upper_torso")]
    + [(f"{s}_forearm", f"{side}_{leg}") for s in ("left", "right") for side in ("left", "right") for leg in ("thigh", "shin")]
    + [(f"{s}_upper_arm", f"{side}_thigh") for s in ("left", "right") for side in ("left", "right")]
    + [(f"{s}_upper_arm", "lower_torso") for s in ("left", "right")]
    + [(f"{s}_shin", "lower_torso") for s in ("left", "right")]
    + [("left_forearm", "right_forearm"), ("left_forearm", "right_upper_arm"), ("right_forearm", "left_upper_arm"),
       ("left_upper_arm", "right_upper_arm"), ("left_thigh", "right_thigh"), ("left_shin", "right_shin"),
       ("left_thigh", "right_shin"), ("right_thigh", "left_shin")]
)


def _segment_distance(points: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Distance of points ``(..., V, 3)`` to segments ``a -> b`` ``(..., 3)``, ``(..., V)``."""
    ab = b - a
    t = ((points - a.unsqueeze(-2)) * ab.unsqueeze(-2)).sum(-1) / ab.square().sum(-1, keepdim=True).clamp(min=1e-12)
    closest = a.unsqueeze(-2) + t.clamp(0.0, 1.0).unsqueeze(-1) * ab.unsqueeze(-2)
    return (points - closest).norm(dim=-1)


class CapsuleBody:
    """Spheres along body parts, sized from the mesh: SMPLify's interpenetration proxy on the CPU.

    Each part of :data:`CAPSULES` gets ``spheres_per_part`` spheres evenly spaced on its
    bone. A mesh vertex belongs to the part whose bone is nearest at rest (``rest_vertices``,
    ``rest_joints``, e.g. the mean shape); a part's radius is the median distance of its
    vertices to its bone, measured again for each shape by :meth:`radii`.

    Args:
        rest_vertices: ``(V, 3)`` unposed mesh vertices used to assign vertices to parts.
        rest_joints: ``(24, 3)`` unposed joints.
        spheres_per_part: spheres per part.
        sigma_scale: each sphere is an isotropic Gaussian with ``sigma = sigma_scale * r``.
    """

    def __init__(self, rest_vertices: torch.Tensor, rest_joints: torch.Tensor,
                 spheres_per_part: int = 4, sigma_scale: float = 1.0 / 3.0) -> None:
        check_tensor(rest_vertices, "rest_vertices", (None, 3), nonempty=True, finite=False,
                     hint="Unposed mesh vertices (V, 3).")
        check_tensor(rest_joints, "rest_joints", (NUM_JOINTS, 3), finite=False, hint="Unposed joints of the same body.")
        check_same_device(rest_vertices, "rest_vertices", rest_joints=rest_joints)
        check_tensor(rest_vertices, "rest_vertices")
        check_tensor(rest_joints, "rest_joints")
        check_positive(spheres_per_part, "spheres_per_part", integer=True)
        check_positive(sigma_scale, "sigma_scale")
        parts = CAPSULES + SINK_CAPSULES
        starts = torch.tensor([joint(c.start) for c in parts])
        ends = torch.tensor([joint(c.end) for c in parts])
        dist = _segment_distance(rest_vertices.unsqueeze(0), rest_joints[starts], rest_joints[ends])  # (P, V)
        owner = dist.argmin(0).cpu()
        self.part_vertices = [torch.nonzero(owner == k).squeeze(-1) for k in range(len(CAPSULES))]
        empty = [c.name for c, v in zip(CAPSULES, self.part_vertices) if len(v) == 0]
        if empty:
            raise ValueError(f"no vertex of rest_vertices lies nearest to the bone of {', '.join(empty)}; give the "
                             "mesh of a body whose joints are rest_joints (e.g. the model's mean shape)")
        #: Number of mesh vertices :meth:`radii` expects.
        self.num_vertices = rest_vertices.shape[0]
        self.starts = starts[: len(CAPSULES)]
        self.ends = ends[: len(CAPSULES)]
        self.spheres_per_part = spheres_per_part
        self.sigma_scale = sigma_scale
        self.t = (torch.arange(spheres_per_part, dtype=torch.float64) + 0.5) / spheres_per_part
        names = [c.name for c in CAPSULES]
        sphere_part = torch.arange(len(CAPSULES)).repeat_interleave(spheres_per_part)
        pairs = []
        for a, b in COLLISION_PAIRS:
            ia, ib = names.index(a), names.index(b)
            sa = torch.nonzero(sphere_part == ia).squeeze(-1)
            sb = torch.nonzero(sphere_part == ib).squeeze(-1)
            pairs.append(torch.cartesian_prod(sa, sb))
        #: ``(P, 2)`` sphere index pairs that are penalised.
        self.pairs = torch.cat(pairs)

    def radii(self, rest_vertices: torch.Tensor, rest_joints: torch.Tensor) -> torch.Tensor:
        """Part radii of unposed bodies.

        Args:
            rest_vertices: ``(B, V, 3)`` unposed (shaped) vertices.
            rest_joints: ``(B, 24, 3)`` unposed joints.

        Returns:
            ``(B, C)`` radii (metres), one per part of :data:`CAPSULES`.

        Raises:
            TypeError, ValueError: wrong types, shapes (``V`` must be the mesh's vertex count given at
                construction, the batches equal), non-finite values, another device.
        """
        check_tensor(rest_vertices, "rest_vertices", (None, self.num_vertices, 3), finite=False,
                     hint=f"The {self.num_vertices} vertices of the mesh this CapsuleBody was built from.")
        check_tensor(rest_joints, "rest_joints", (rest_vertices.shape[0], NUM_JOINTS, 3), finite=False)
        check_same_device(rest_vertices, "rest_vertices", rest_joints=rest_joints)
        check_tensor(rest_vertices, "rest_vertices")
        check_tensor(rest_joints, "rest_joints")
        return self._radii_unchecked(rest_vertices, rest_joints)

    def _radii_unchecked(self, rest_vertices: torch.Tensor, rest_joints: torch.Tensor) -> torch.Tensor:
        """:meth:`radii` without its checks, for a fit's own rest meshes (made from checked inputs)."""
        out = []
        for k, verts in enumerate(self.part_vertices):
            a = rest_joints[:, self.starts[k]]
            b = rest_joints[:, self.ends[k]]
            d = _segment_distance(rest_vertices[:, verts], a, b)
            out.append(d.median(dim=-1).values)
        return torch.stack(out, dim=-1)

    def spheres(self, joints: torch.Tensor, radii: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Sphere centres and Gaussian widths of posed bodies.

        Args:
            joints: ``(B, 24, 3)`` posed joints.
            radii: ``(B, C)`` part radii from :meth:`radii`.

        Returns:
            centres ``(B, C * n, 3)`` and sigmas ``(B, C * n)``.

        Raises:
            TypeError, ValueError: wrong types, shapes or devices (values are not checked: this runs
                in the fitting loop; NaN joints give NaN centres).
        """
        check_tensor(joints, "joints", (None, NUM_JOINTS, 3), finite=False)
        check_tensor(radii, "radii", (joints.shape[0], len(CAPSULES)), finite=False,
                     hint="One radius per part of CAPSULES, from CapsuleBody.radii.")
        check_same_device(joints, "joints", radii=radii)
        a = joints[:, self.starts]  # (B, C, 3)
        b = joints[:, self.ends]
        t = self.t.to(joints)[None, None, :, None]
        centres = a.unsqueeze(2) + t * (b - a).unsqueeze(2)  # (B, C, n, 3)
        sig = (self.sigma_scale * radii).repeat_interleave(self.spheres_per_part, dim=-1)
        return centres.reshape(joints.shape[0], len(self.starts) * self.spheres_per_part, 3), sig


def interpenetration_energy(centres: torch.Tensor, sigmas: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """``E_sp = sum_(i,j) exp(-||c_i - c_j||^2 / (sigma_i^2 + sigma_j^2))`` over penalised sphere pairs.

    Args:
        centres: ``(B, S, 3)`` sphere centres.
        sigmas: ``(B, S)`` Gaussian widths.
        pairs: ``(P, 2)`` index pairs into the spheres.

    Returns:
        ``(B,)`` energies (each pair contributes 1 when the centres coincide, ~0 when apart).

    Raises:
        TypeError, ValueError: wrong types, shapes or devices; ``pairs`` not integer indices in
            ``[0, S)``; widths that are not positive (NaN centres give NaN).
    """
    check_tensor(centres, "centres", (None, None, 3), finite=False)
    b, n = centres.shape[:2]
    check_tensor(sigmas, "sigmas", (b, n), finite=False, hint="One Gaussian width per sphere.")
    check_tensor(pairs, "pairs", (None, 2), floating=False, finite=False)
    if pairs.is_floating_point() or pairs.is_complex() or pairs.dtype == torch.bool:
        raise ValueError(f"pairs must hold integer sphere indices; got dtype {pairs.dtype}")
    check_same_device(centres, "centres", sigmas=sigmas, pairs=pairs)
    if centres.device.type != "meta":
        if pairs.numel() and (int(pairs.min()) < 0 or int(pairs.max()) >= n):
            raise ValueError(f"pairs must index the {n} spheres, in [0, {n}); got [{int(pairs.min())}, {int(pairs.max())}]")
        if bool((sigmas <= 0).any()):
            raise ValueError("sigmas must be > 0 (Gaussian widths)")
    return _interpenetration_energy(centres, sigmas, pairs)


class _PairPenalty:
    """``E_sp`` of posed joints for bodies whose part radii are fixed (a fitting stage), without checks.

    The same arithmetic as ``_interpenetration_energy(*capsules.spheres(joints, radii), pairs)``
    (equal values), with what does not change during a stage computed once: the index tensors
    on the joints' device and each body's ``sigma_i^2 + sigma_j^2`` per pair. ``radii (B, C)``
    and :meth:`__call__`'s ``idx`` index the same bodies.
    """

    def __init__(self, capsules: "CapsuleBody", radii: torch.Tensor, pairs: torch.Tensor) -> None:
        device = radii.device
        self.starts, self.ends = capsules.starts.to(device), capsules.ends.to(device)
        self.t = capsules.t.to(radii)[None, None, :, None]
        self.num_spheres = len(capsules.starts) * capsules.spheres_per_part
        self.first, self.second = pairs[:, 0].to(device), pairs[:, 1].to(device)
        sig = (capsules.sigma_scale * radii).repeat_interleave(capsules.spheres_per_part, dim=-1)
        self.s2 = sig.index_select(1, self.first).square() + sig.index_select(1, self.second).square()  # (B, P)

    def __call__(self, joints: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        a, b = joints.index_select(1, self.starts), joints.index_select(1, self.ends)
        centres = (a.unsqueeze(2) + self.t * (b - a).unsqueeze(2)).reshape(joints.shape[0], self.num_spheres, 3)
        diff = centres.index_select(1, self.first) - centres.index_select(1, self.second)
        return torch.exp(-diff.square().sum(-1) / self.s2.index_select(0, idx)).sum(-1)


def _interpenetration_energy(centres: torch.Tensor, sigmas: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """:func:`interpenetration_energy` without the checks (the fitting loop's inner step)."""
    ci, cj = centres[:, pairs[:, 0]], centres[:, pairs[:, 1]]
    s2 = sigmas[:, pairs[:, 0]].square() + sigmas[:, pairs[:, 1]].square()
    return torch.exp(-(ci - cj).square().sum(-1) / s2).sum(-1)


__all__ = [
    "BENDING_JOINTS",
    "CAPSULES",
    "COLLISION_PAIRS",
    "BendingJoint",
    "Capsule",
    "CapsuleBody",
    "angle_energy",
    "check_keypoints",
    "geman_mcclure",
    "interpenetration_energy",
    "keypoint_energy",
    "keypoint_energy_unchecked",
    "shape_energy",
]
