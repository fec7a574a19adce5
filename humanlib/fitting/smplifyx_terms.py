r"""SMPLify-X's energy, term by term, on SMPL-X-layout models (the open one included).

The staged fit that minimises it is :func:`humanlib.fitting.smplifyx.fit_smplifyx`.

SMPLify-X (Pavlakos et al., CVPR 2019) fits SMPL-X to OpenPose's body, hand and face keypoints by
minimising

.. math::
   E = E_J + \lambda_{\theta_b} E_{\theta_b} + \lambda_{\theta_f} E_{\theta_f} + \lambda_{m_h} E_{m_h}
       + \lambda_\alpha E_\alpha + \lambda_\beta E_\beta + \lambda_\varepsilon E_\varepsilon + \lambda_c E_c .

Each term is one function here, named after the paper's symbol:

=================  =============================================================================
:func:`E_J`        robust (Geman-McClure), confidence-weighted 2D distance over body + hands + face
:func:`E_theta_b`  VPoser's ``||z||^2`` (:class:`humanlib.priors.vposer.VPoserPrior`)
:func:`E_mh`       the hand pose prior; SMPLify-X's is a Gaussian on MANO's PCA coefficients,
                   learned from hand scans. The course has no finger motion data, so
                   :class:`HandPosePrior` is derived openly from anatomical ranges and finger
                   coupling: an **energy with no sampler** (nothing can be drawn from it, so it is
                   never "evaluated on its own samples")
:func:`E_theta_f`  the jaw pose prior ``sum_k w_k theta_jaw,k^2``
:func:`E_epsilon`  the expression prior ``||psi||^2``
:func:`E_alpha`    elbows and knees bending the unnatural way (SMPLify's ``E_a`` on SMPL-X's
                   joints 4, 5, 18, 19, which are SMPL's)
:func:`E_beta`     ``||beta||^2``
:func:`E_c`        self-intersections (:mod:`humanlib.fitting.collision`), on triangle pairs
                   searched on the full mesh at the start of each stage with ``E_c`` and again
                   every ``collision_every`` iterations (:func:`collision_pairs`), fixed in between
=================  =============================================================================

**On the open model two terms are trivial, and stay present with their weights**: its jaw
joint has no skinning weight (the jaw is fixed: rotating it moves no vertex, so no keypoint pulls
on it and :func:`E_theta_f` keeps it at zero), and it has no expression columns
(``psi`` has width 0, so :func:`E_epsilon` is 0). On a licensed SMPL-X file both would act.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from humanlib._validate import check_positive, check_tensor
from humanlib.bodybuild_smplx import SMPLX_JOINT_NAMES
from humanlib.fitting import keypoints_x as kx
from humanlib.fitting.collision import SMPLX_HEAD_PARTS, face_parts, intersecting_pairs
from humanlib.fitting.energies import _geman_mcclure, angle_energy, shape_energy


#: SMPL-X's finger joints of one hand in the layout's order (index, middle, pinky, ring, thumb; 1..3 each).
SMPLX_FINGERS = ("index", "middle", "pinky", "ring", "thumb")
#: Index of the first left / right finger joint (25 / 40); 15 finger joints per hand follow.
HAND_START = {"left": SMPLX_JOINT_NAMES.index("left_index1"), "right": SMPLX_JOINT_NAMES.index("right_index1")}
#: SMPL-X's jaw joint (22).
JAW = SMPLX_JOINT_NAMES.index("jaw")
#: SMPLify-X's relative jaw weights per axis (x opens the mouth; its weights are ``[1, 10, 10] x lambda``).
JAW_AXIS_WEIGHTS = (1.0, 10.0, 10.0)


def check_keypoints_x(keypoints: object, confidence: object, sets: tuple[str, ...]) -> None:
    """Raise unless ``keypoints`` are ``(B, K, 2)`` and ``confidence`` ``(B, K)`` for the keypoint ``sets``.

    ``K`` is the sum of the sets' sizes (:data:`humanlib.fitting.keypoints_x.KEYPOINT_SETS`: body 25,
    hands 42, face 51), in the order of ``sets``.

    Raises:
        TypeError, ValueError: naming the expected width and the sets it comes from; a width that
            matches the sets without ``face`` says that the face keypoints are missing.
    """
    sets = kx._check_sets(sets)
    width = sum(kx.KEYPOINT_SETS[s] for s in sets)
    parts = " + ".join(f"{kx.KEYPOINT_SETS[s]} {s}" for s in sets)
    if not isinstance(keypoints, torch.Tensor):
        raise TypeError(f"keypoints must be a torch.Tensor (B, {width}, 2); got {type(keypoints).__name__}")
    if keypoints.dim() == 3 and keypoints.shape[1] != width and keypoints.shape[2] == 2:
        got = keypoints.shape[1]
        without_face = [s for s in sets if s != "face"]
        if "face" in sets and got == sum(kx.KEYPOINT_SETS[s] for s in without_face):
            raise ValueError(f"keypoints have {got} columns: the face keypoints are missing for sets {sets} "
                             f"({parts} = {width}); give all {width}, or fit sets={tuple(without_face)}")
        raise ValueError(f"keypoints must have shape (B, {width}, 2) for sets {sets} ({parts}, in OpenPose's "
                         f"order); got {tuple(keypoints.shape)}")
    check_tensor(keypoints, "keypoints", (None, width, 2), finite=False,
                 hint=f"pixels, {parts} keypoints in OpenPose's order; confidence 0 for missing ones")
    if isinstance(confidence, torch.Tensor) and confidence.shape != keypoints.shape[:2]:
        raise ValueError(f"confidence must have shape {tuple(keypoints.shape[:2])} to match keypoints; "
                         f"got {tuple(confidence.shape)}")
    check_tensor(confidence, "confidence", (None, width), finite=False)
    if confidence.device != keypoints.device:
        raise ValueError(f"confidence is on {confidence.device} but keypoints on {keypoints.device}; move one of them")
    if not bool(torch.isfinite(confidence).all()) or bool((confidence < 0).any()):
        raise ValueError("confidence must be finite and >= 0 (0 = keypoint not observed)")
    bad = (~torch.isfinite(keypoints).all(-1)) & (confidence > 0)
    if bool(bad.any()):
        raise ValueError(f"keypoints hold {int(bad.sum())} non-finite value(s) with positive confidence; give "
                         "missing keypoints confidence 0")


def set_of_keypoints(sets: tuple[str, ...]) -> list[str]:
    """The set (``"body"``, ``"hands"``, ``"face"``) of each keypoint of ``sets``, in order.

    Raises:
        TypeError, ValueError: ``sets`` not a tuple of distinct set names.
    """
    sets = kx._check_sets(sets)
    return [s for s in sets for _ in range(kx.KEYPOINT_SETS[s])]


# --------------------------------------------------------------------------- E_J


def E_J(projected: torch.Tensor, keypoints: torch.Tensor, confidence: torch.Tensor, weights: torch.Tensor,
        sigma: float = 100.0) -> torch.Tensor:
    r""":math:`E_J = \sum_i \gamma_i\, c_i\, \rho_\sigma(\|\Pi_K(J_i) - \hat J_i\|^2)` per frame.

    ``gamma_i`` is the weight of keypoint ``i``'s set in the current stage (SMPLify-X raises the
    hands' and the face's from 0 in the last stages), ``c_i`` its detection confidence and
    ``rho`` Geman-McClure (:func:`humanlib.fitting.energies.geman_mcclure`).

    Args:
        projected: (B, K, 2) projected model keypoints (pixels).
        keypoints: (B, K, 2) observations (pixels); rows of confidence 0 are ignored.
        confidence: (B, K) detection confidences ``c_i >= 0``.
        weights: (K,) or (B, K) per-keypoint weights ``gamma_i >= 0``.
        sigma: Geman-McClure scale (pixels).

    Returns:
        (B,) energies, pixels^2.

    Raises:
        TypeError, ValueError: shapes that do not match, ``sigma`` not a number > 0.
    """
    check_tensor(projected, "projected", (None, None, 2), finite=False)
    check_tensor(keypoints, "keypoints", tuple(projected.shape), finite=False, hint="It must match projected.")
    check_tensor(confidence, "confidence", tuple(projected.shape[:2]), finite=False)
    if not isinstance(weights, torch.Tensor) or weights.shape not in (projected.shape[1:2], projected.shape[:2]):
        raise ValueError(f"weights must be a tensor of shape ({projected.shape[1]},) or {tuple(projected.shape[:2])}; "
                         f"got {tuple(getattr(weights, 'shape', ())) or type(weights).__name__}")
    check_positive(sigma, "sigma")
    return _E_J(projected, keypoints, confidence, weights, sigma)


def _E_J(projected, keypoints, confidence, weights, sigma):
    keep = confidence > 0  # unobserved rows may hold anything finite
    sq = torch.where(keep, (projected - keypoints).square().sum(-1), torch.zeros_like(confidence))
    return (weights * confidence * _geman_mcclure(sq, sigma)).sum(-1)


# --------------------------------------------------------------------------- priors


def E_theta_b(prior, z: torch.Tensor) -> torch.Tensor:
    r""":math:`E_{\theta_b} = \|z\|^2`: VPoser's prior on the body pose, on its latent code.

    Args:
        prior: the :class:`~humanlib.priors.PosePrior` the fit optimises in (VPoser: ``z`` (B, 32);
            another prior: its own parameters and energy, e.g. the GMM's on the 63 pose numbers).
        z: (B, P) the prior's parameters.

    Returns:
        (B,) energies.

    Raises:
        TypeError, ValueError: as the prior's ``params_energy``.
    """
    from humanlib.priors import PosePrior

    if not isinstance(prior, PosePrior):
        raise TypeError(f"prior must be a humanlib.priors.PosePrior (e.g. load_prior('vposer')); got {type(prior).__name__}")
    return prior.params_energy(z)


def E_theta_f(jaw_pose: torch.Tensor, axis_weights: tuple[float, float, float] = JAW_AXIS_WEIGHTS) -> torch.Tensor:
    r""":math:`E_{\theta_f} = \sum_k w_k^2\, \theta_{jaw,k}^2`, the jaw pose prior (weights per axis, squared).

    Trivial on the open model (its jaw moves no vertex), present so that the energy is SMPLify-X's.

    Args:
        jaw_pose: (B, 3) axis-angle of the jaw.
        axis_weights: ``w_k`` per axis (SMPLify-X's ratios: 1, 10, 10).

    Raises:
        TypeError, ValueError: ``jaw_pose`` not (B, 3), weights not three numbers >= 0.
    """
    check_tensor(jaw_pose, "jaw_pose", (None, 3), finite=False, hint="axis-angle of SMPL-X's jaw joint (22)")
    if not isinstance(axis_weights, (tuple, list)) or len(axis_weights) != 3:
        raise TypeError(f"axis_weights must be three numbers; got {axis_weights!r}")
    for w in axis_weights:
        check_positive(w, "axis_weights entry", allow_zero=True)
    w = jaw_pose.new_tensor(axis_weights)
    return (w * jaw_pose).square().sum(-1)


def E_epsilon(expression: torch.Tensor) -> torch.Tensor:
    r""":math:`E_\varepsilon = \|\psi\|^2`, the expression prior.

    The open model has no expression columns: ``psi`` is (B, 0) and the energy is 0.

    Raises:
        TypeError, ValueError: ``expression`` not a (B, E) tensor.
    """
    check_tensor(expression, "expression", (None, None), finite=False, hint="(B, number of expression coefficients)")
    return expression.square().sum(-1)


def E_alpha(pose: torch.Tensor) -> torch.Tensor:
    r""":math:`E_\alpha = \sum_{i \in \{elbows, knees\}} \exp(s_i \theta_i)` on an SMPL-X pose.

    SMPL-X's joints 0..21 are SMPL's, so SMPLify's joints, axes and signs
    (:data:`humanlib.fitting.energies.BENDING_JOINTS`) apply unchanged (a test checks the signs on
    the open SMPL-X-layout model).

    Args:
        pose: (B, 55, 3) full SMPL-X pose.

    Raises:
        TypeError, ValueError: ``pose`` not (B, 55, 3).
    """
    check_tensor(pose, "pose", (None, kx.SMPLX_NUM_JOINTS, 3), finite=False, hint="full SMPL-X pose, axis-angle")
    return angle_energy(pose[:, :24].contiguous())


def E_beta(betas: torch.Tensor) -> torch.Tensor:
    r""":math:`E_\beta = \|\beta\|^2` (:func:`humanlib.fitting.energies.shape_energy`).

    Raises:
        TypeError, ValueError: ``betas`` not (B, K).
    """
    return shape_energy(betas)


# --------------------------------------------------------------------------- E_mh


@dataclass(frozen=True)
class FingerJointRange:
    """Anatomical range of one finger joint, radians, in its flexion / abduction / twist frame.

    Attributes:
        flex_min, flex_max: flexion range (negative = hyper-extension).
        relaxed: flexion of a relaxed hand (the Gaussian's mean).
        abduction: half-range of the sideways rotation (about the palm normal).
        twist: half-range of the rotation about the bone.

    Raises:
        TypeError, ValueError: non-numbers, ``flex_min >= flex_max``, ``relaxed`` outside the range,
            half-ranges that are not > 0.
    """

    flex_min: float
    flex_max: float
    relaxed: float
    abduction: float
    twist: float

    def __post_init__(self) -> None:
        for name in ("flex_min", "flex_max", "relaxed"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise TypeError(f"FingerJointRange.{name} must be a finite number (radians); got {v!r}")
        check_positive(self.abduction, "FingerJointRange.abduction")
        check_positive(self.twist, "FingerJointRange.twist")
        if not self.flex_min < self.flex_max or not self.flex_min <= self.relaxed <= self.flex_max:
            raise ValueError(f"FingerJointRange needs flex_min < flex_max and relaxed between them; got "
                             f"{self.flex_min}, {self.flex_max}, relaxed {self.relaxed}")


def _deg(*values: float) -> tuple[float, ...]:
    return tuple(math.radians(v) for v in values)


#: Active ranges of motion (degrees, typical adult values from hand anatomy): MCP (joint 1) -20..90
#: with +-20 abduction, PIP (2) -5..100, DIP (3) -5..80; the thumb's CMC -15..45 (+-25), MCP
#: -10..55, IP -15..80. Relaxed hand: MCP 25, PIP 35, DIP 23 (= 2/3 PIP); thumb 10, 15, 15.
FINGER_RANGES: dict[int, FingerJointRange] = {
    1: FingerJointRange(*_deg(-20, 90, 25, 20, 5)),
    2: FingerJointRange(*_deg(-5, 100, 35, 5, 5)),
    3: FingerJointRange(*_deg(-5, 80, 23, 5, 5)),
}
#: The thumb's joints (CMC, MCP, IP), wider and less hinge-like than the fingers'.
THUMB_RANGES: dict[int, FingerJointRange] = {
    1: FingerJointRange(*_deg(-15, 45, 10, 25, 10)),
    2: FingerJointRange(*_deg(-10, 55, 15, 8, 5)),
    3: FingerJointRange(*_deg(-15, 80, 15, 5, 5)),
}
#: DIP flexion follows about 2/3 of PIP flexion (the tendons couple them); the tolerance, radians.
DIP_PIP_RATIO = 2.0 / 3.0
COUPLING_SIGMA = math.radians(10.0)
#: Width of the steep wall outside a joint's range, radians.
RANGE_WALL = math.radians(5.0)


class HandPosePrior:
    r"""SMPLify-X's hand term :math:`E_{m_h}`, derived from anatomy instead of learned (no sampler).

    Each finger joint's axis-angle :math:`\theta` (SMPL-X's local rotation, expressed in the rest
    pose's frame, where every joint frame is the world's) is split in the joint's anatomical frame
    measured on the model's rest mesh: ``d`` along the bone (joint -> next joint, the last phalanx
    -> its fingertip vertex), ``n`` the palm normal (the palm side of the hand, from the wrist,
    middle, index and pinky knuckles) made orthogonal to ``d``, and the flexion axis ``a = d x n``
    (a positive rotation about it moves the bone towards the palm). With flexion
    :math:`\phi = \theta\cdot a`, abduction :math:`\psi = \theta\cdot n`, twist :math:`\tau = \theta\cdot d`,

    .. math::
       E_{m_h} = \sum_j \Big(\frac{\phi_j - \mu_j}{\sigma_j}\Big)^2 + \Big(\frac{\psi_j}{A_j/2}\Big)^2
       + \Big(\frac{\tau_j}{T_j/2}\Big)^2 + \frac{[\phi_j^{min} - \phi_j]_+^2 + [\phi_j - \phi_j^{max}]_+^2}{w^2}
       + \sum_{fingers} \Big(\frac{\phi_{DIP} - \tfrac23 \phi_{PIP}}{\sigma_c}\Big)^2,

    a Gaussian about the relaxed curl ``mu`` with ``sigma = (max - min) / 4``, Gaussians on
    abduction and twist of half their half-ranges, a steep wall (``w = 5 deg``) outside the flexion
    range and the DIP-PIP coupling (:data:`FINGER_RANGES`, :data:`THUMB_RANGES`). The thumb uses
    the same construction with wide ranges; its real axes (the CMC saddle) are not the fingers',
    which this approximation ignores. It is an energy only: nothing samples from it, and it was
    never fitted to hand poses (the course has none).

    Args:
        model: an SMPL-X-layout :class:`humanlib.body.BodyModel` (55 joints).

    Raises:
        TypeError, ValueError: not a BodyModel, not 55 joints.
    """

    def __init__(self, model) -> None:
        kx._check_model(model)
        v = model.v_template.detach().double().cpu()
        J = model.J_regressor.detach().double().cpu() @ v
        tips = kx.keypoint_vertex_ids(model)
        frames, lo, hi, mu, abd, tw = [], [], [], [], [], []
        for side, palm_sign in (("left", 1.0), ("right", -1.0)):
            def at(name: str) -> torch.Tensor:
                return J[SMPLX_JOINT_NAMES.index(f"{side}_{name}")]

            along = torch.nn.functional.normalize(at("middle1") - J[SMPLX_JOINT_NAMES.index(f"{side}_wrist")], dim=0)
            thumbward = torch.nn.functional.normalize(at("index1") - at("pinky1"), dim=0)
            palm = torch.nn.functional.normalize(palm_sign * torch.linalg.cross(along, thumbward), dim=0)
            for finger in SMPLX_FINGERS:
                ranges = THUMB_RANGES if finger == "thumb" else FINGER_RANGES
                for k in (1, 2, 3):
                    end = at(f"{finger}{k + 1}") if k < 3 else v[tips[f"{side}_{finger}_tip"]]
                    d = torch.nn.functional.normalize(end - at(f"{finger}{k}"), dim=0)
                    n = torch.nn.functional.normalize(palm - (palm @ d) * d, dim=0)
                    frames.append(torch.stack((torch.linalg.cross(d, n), n, d)))  # rows: flexion, abduction, twist
                    r = ranges[k]
                    lo.append(r.flex_min), hi.append(r.flex_max), mu.append(r.relaxed)
                    abd.append(r.abduction), tw.append(r.twist)
        #: (30, 3, 3) rows (flexion axis, palm normal, bone) of each finger joint, left hand then right.
        self.frames = torch.stack(frames)
        self.flex_min, self.flex_max, self.relaxed = (torch.tensor(x, dtype=torch.float64) for x in (lo, hi, mu))
        self.flex_sigma = (self.flex_max - self.flex_min) / 4
        self.abduction_sigma = torch.tensor(abd, dtype=torch.float64) / 2
        self.twist_sigma = torch.tensor(tw, dtype=torch.float64) / 2
        # (PIP, DIP) rows of the 8 non-thumb fingers: joints 2 and 3 of each finger block of 3
        pip = [h * 15 + f * 3 + 1 for h in (0, 1) for f, name in enumerate(SMPLX_FINGERS) if name != "thumb"]
        self.pip, self.dip = torch.tensor(pip), torch.tensor(pip) + 1
        self._cast: dict = {}

    def _buffers(self, like: torch.Tensor):
        key = (like.dtype, like.device)
        if key not in self._cast:
            self._cast[key] = tuple(t.to(like) for t in (self.frames, self.relaxed, self.flex_sigma, self.flex_min,
                                                          self.flex_max, self.abduction_sigma, self.twist_sigma))
        return self._cast[key]

    def components(self, hand_pose: torch.Tensor) -> torch.Tensor:
        """(B, 30, 3) flexion, abduction, twist (radians) of each finger joint of ``hand_pose`` (B, 30, 3).

        Raises:
            TypeError, ValueError: ``hand_pose`` not (B, 30, 3).
        """
        check_tensor(hand_pose, "hand_pose", (None, 30, 3), finite=False,
                     hint="SMPL-X joints 25..54 (left hand's 15 finger joints, then the right's), axis-angle")
        return self._components(hand_pose)

    def _components(self, hand_pose):
        return torch.einsum("jck,bjk->bjc", self._buffers(hand_pose)[0], hand_pose)

    def energy(self, hand_pose: torch.Tensor) -> torch.Tensor:
        """:math:`E_{m_h}` per frame, (B,) (see the class docstring).

        Raises:
            TypeError, ValueError: ``hand_pose`` not (B, 30, 3).
        """
        check_tensor(hand_pose, "hand_pose", (None, 30, 3), finite=False,
                     hint="SMPL-X joints 25..54 (left hand's 15 finger joints, then the right's), axis-angle")
        return self._energy(hand_pose)

    def _energy(self, hand_pose):
        _, mu, s_f, lo, hi, s_a, s_t = self._buffers(hand_pose)
        c = self._components(hand_pose)
        flex, abd, twist = c.unbind(-1)
        e = ((flex - mu) / s_f).square() + (abd / s_a).square() + (twist / s_t).square()
        e = e + (torch.relu(lo - flex).square() + torch.relu(flex - hi).square()) / RANGE_WALL ** 2
        couple = ((flex[:, self.dip] - DIP_PIP_RATIO * flex[:, self.pip]) / COUPLING_SIGMA).square()
        return e.sum(-1) + couple.sum(-1)


def E_mh(prior: HandPosePrior, hand_pose: torch.Tensor) -> torch.Tensor:
    r""":math:`E_{m_h}`, the hand pose prior (:class:`HandPosePrior`; both hands, (B, 30, 3) -> (B,)).

    Raises:
        TypeError, ValueError: ``prior`` not a HandPosePrior, ``hand_pose`` not (B, 30, 3).
    """
    if not isinstance(prior, HandPosePrior):
        raise TypeError(f"prior must be a HandPosePrior (HandPosePrior(model)); got {type(prior).__name__}")
    return prior.energy(hand_pose)


# --------------------------------------------------------------------------- E_c


def mesh_parts(model) -> torch.Tensor:
    """Each triangle's body part on an SMPL-X-layout model, the eyes merged into the head ((F,) int64).

    Raises:
        TypeError, ValueError: not a 55-joint BodyModel.
    """
    kx._check_model(model)
    return face_parts(model.weights, model.faces, SMPLX_HEAD_PARTS)


def collision_pairs(vertices: torch.Tensor, model, parts: torch.Tensor | None = None) -> torch.Tensor:
    """The intersecting triangle pairs of posed meshes of ``model`` (different parts only), no gradient.

    Args:
        vertices: (B, V, 3) posed vertices of the model.
        model: the SMPL-X-layout model (its triangles).
        parts: :func:`mesh_parts` (computed when None).

    Returns:
        (P, 3) int64 rows (body, triangle s, triangle t).

    Raises:
        TypeError, ValueError: not a 55-joint model, vertices of another mesh.
    """
    kx._check_model(model)
    check_tensor(vertices, "vertices", (None, model.num_vertices, 3), hint=f"({model.num_vertices} vertices per body)")
    parts = (mesh_parts(model) if parts is None else parts).to(vertices.device)
    faces = model.faces.to(vertices.device)
    found = []
    with torch.no_grad():
        for b in range(vertices.shape[0]):
            v = vertices[b:b + 1].detach()
            keep = torch.nonzero(_near_other_parts(v[0][faces], parts)).squeeze(-1)
            pairs = intersecting_pairs(v, faces[keep], parts[keep])
            found.append(torch.stack([torch.full_like(pairs[:, 0], b), keep[pairs[:, 1]], keep[pairs[:, 2]]], 1))
    if not found:
        return torch.zeros(0, 3, dtype=torch.long, device=vertices.device)
    pairs = torch.cat(found)
    s, t = torch.minimum(pairs[:, 1], pairs[:, 2]), torch.maximum(pairs[:, 1], pairs[:, 2])
    return torch.stack([pairs[:, 0], s, t], 1)


def _near_other_parts(tri: torch.Tensor, parts: torch.Tensor, passes: int = 1) -> torch.Tensor:
    """(F,) triangles whose box overlaps the box of another part's (remaining) triangles: an exact pre-filter.

    A triangle that crosses a triangle of another part overlaps that part's bounding box, and so
    does its partner, so both survive every pass (each pass shrinks the parts' boxes to their
    remaining triangles). The broad phase then runs on these triangles only (a fraction of the
    mesh in most poses) and finds the same pairs as on the whole mesh (a test checks it).
    """
    lo, hi = tri.amin(1), tri.amax(1)  # (F, 3)
    num_parts = int(parts.max()) + 1
    keep = torch.ones(len(tri), dtype=torch.bool, device=tri.device)
    idx = parts[:, None].expand(-1, 3)
    for _ in range(passes):
        big = torch.finfo(tri.dtype).max
        plo = torch.full((num_parts, 3), big, dtype=tri.dtype, device=tri.device)
        phi = torch.full((num_parts, 3), -big, dtype=tri.dtype, device=tri.device)
        plo = plo.scatter_reduce(0, idx[keep], lo[keep], "amin")
        phi = phi.scatter_reduce(0, idx[keep], hi[keep], "amax")
        overlap = ((lo[:, None] <= phi[None]) & (hi[:, None] >= plo[None])).all(-1)  # (F, P)
        overlap[torch.arange(len(tri), device=tri.device), parts] = False
        new = keep & overlap.any(1)
        if torch.equal(new, keep):
            break
        keep = new
    return keep


def E_c(vertices: torch.Tensor, faces: torch.Tensor, pairs: torch.Tensor, sigma: float = 2.0) -> torch.Tensor:
    r""":math:`E_c = \sum_{(f_s, f_t)} \sum_{v \in f_s} \Psi_{f_t}(v)^2 + \sum_{v \in f_t} \Psi_{f_s}(v)^2` per body.

    The pairs are fixed (searched by :func:`collision_pairs` a few times per stage); the penetration
    field ``Psi`` is :func:`humanlib.fitting.collision.penetration_field`. Metres^2.

    Args:
        vertices: (B, V, 3) posed vertices (differentiable).
        faces: (F, 3) triangles.
        pairs: (P, 3) rows (body, s, t).
        sigma: the field's depth in circumradii.

    Raises:
        TypeError, ValueError: see :func:`humanlib.fitting.collision.collision_energy`.
    """
    from humanlib.fitting.collision import collision_energy

    return collision_energy(vertices, faces, pairs, sigma)


__all__ = [
    "DIP_PIP_RATIO",
    "COUPLING_SIGMA",
    "FINGER_RANGES",
    "FingerJointRange",
    "HAND_START",
    "HandPosePrior",
    "JAW",
    "JAW_AXIS_WEIGHTS",
    "SMPLX_FINGERS",
    "THUMB_RANGES",
    "E_J",
    "E_alpha",
    "E_beta",
    "E_c",
    "E_epsilon",
    "E_mh",
    "E_theta_b",
    "E_theta_f",
    "check_keypoints_x",
    "collision_pairs",
    "mesh_parts",
    "set_of_keypoints",
]
