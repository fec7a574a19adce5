r"""SMPLify-X's energy, term by term, on SMPL-X-layout models (the open one included).

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
from dataclasses import dataclass, field

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



# --------------------------------------------------------------------------- the keypoints of a posed body, cheaply


class KeypointBody:
    """The posed keypoints (and any chosen vertices) of an SMPL-X-layout model without skinning its whole mesh.

    A keypoint is a joint or a mesh vertex (:mod:`humanlib.fitting.keypoints_x`). The joints need
    only ``J(beta) = J_regressor (T + S beta)``, which is linear in ``beta``: it is precomputed as
    ``J_T + J_S beta``; the vertices need only their own rows of the template, the shape and pose
    blend shapes and the skinning weights. So a fit evaluates ~130 points instead of 13,718 and
    gets the same numbers as the full model (a test checks it).

    Args:
        model: an SMPL-X-layout :class:`humanlib.body.BodyModel`.
        sets: the keypoint sets (:func:`humanlib.fitting.keypoints_x.keypoint_selection`).

    Raises:
        TypeError, ValueError: not a 55-joint BodyModel, bad ``sets``.
    """

    def __init__(self, model, sets: tuple[str, ...] = ("body", "hands", "face")) -> None:
        kx._check_model(model)
        self.selection = kx.keypoint_selection(model, sets)
        self.model = model
        self.parents = tuple(model.parents)
        d = torch.float64
        v, sd = model.v_template.detach().to(d), model.shapedirs.detach().to(d)
        jr = model.J_regressor.detach().to(d)
        self._joint_template = jr @ v
        self._joint_shapedirs = torch.einsum("jv,vck->jck", jr, sd)
        self.keypoint_vertices = self.selection.index[self.selection.is_vertex].cpu()
        from humanlib.body import _KinematicLevels

        self._plan = _KinematicLevels(self.parents)  # one batched product per tree level (11 for SMPL-X)
        self._inverse_order = torch.argsort(self._plan.order_t)
        self._cache: dict = {}

    def _buffers(self, vertex_ids: torch.Tensor, like: torch.Tensor):
        key = (tuple(vertex_ids.tolist()), like.dtype, like.device)
        if key not in self._cache:
            if len(self._cache) > 8:
                self._cache.clear()
            ids = vertex_ids.to(self.model.v_template.device)
            m = self.model
            self._cache[key] = tuple(t.detach().to(like) for t in (
                self._joint_template, self._joint_shapedirs, m.v_template[ids], m.shapedirs[ids], m.posedirs[ids],
                m.weights[ids]))
        return self._cache[key]

    def _posed(self, betas: torch.Tensor, pose: torch.Tensor, transl: torch.Tensor,
              vertex_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posed joints (B, 55, 3) and vertices ``vertex_ids`` (B, n, 3) (unchecked: the fit's inner loop)."""
        from humanlib.body import _pose_blend_shapes, _pose_feature
        from humanlib.rotations import axis_angle_to_rotmat_unchecked

        jt, jsd, vt, sd, pd, w = self._buffers(vertex_ids, betas)
        rest_joints = jt + torch.einsum("jck,bk->bjc", jsd, betas)
        rot = axis_angle_to_rotmat_unchecked(pose)
        joints, world = self._kinematics(rot, rest_joints)
        if len(vertex_ids) == 0:
            return joints + transl[:, None], betas.new_zeros(betas.shape[0], 0, 3)
        v = vt + torch.einsum("vck,bk->bvc", sd, betas) + _pose_blend_shapes(_pose_feature(rot), pd)
        # linear blend skinning with the transforms [R_k | j_k - R_k J_k]
        offset = joints - (world @ rest_joints.unsqueeze(-1)).squeeze(-1)
        r = torch.einsum("vk,bkij->bvij", w, world)
        t = torch.einsum("vk,bki->bvi", w, offset)
        verts = (r @ v.unsqueeze(-1)).squeeze(-1) + t
        return joints + transl[:, None], verts + transl[:, None]

    def _kinematics(self, rot: torch.Tensor, rest_joints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """World rotations (B, 55, 3, 3) level by level and posed joints (B, 55, 3) (root at rest)."""
        plan = self._plan
        order, level_parents, parent_of, ancestors = plan._buffers(rot)
        levels = list(torch.split(rot.index_select(1, order), plan.sizes, dim=1))
        world = [levels[0]]
        for local, up in zip(levels[1:], level_parents):
            world.append(world[-1].index_select(1, up) @ local)
        world = torch.cat(world, 1).index_select(1, self._inverse_order.to(rot.device))
        offsets = rest_joints - rest_joints.index_select(1, parent_of)
        rotated = (world.index_select(1, parent_of) @ offsets.unsqueeze(-1)).squeeze(-1)
        rotated = torch.cat([rest_joints[:, :1], rotated[:, 1:]], 1)
        return torch.einsum("ka,nac->nkc", ancestors, rotated), world

    def _keypoints(self, joints: torch.Tensor, vertices: torch.Tensor) -> torch.Tensor:
        """(B, K, 3) keypoints from ``_posed``'s joints and the vertices ``keypoint_vertices`` (first)."""
        sel = self.selection
        where = torch.zeros(len(sel.names), dtype=torch.long)
        where[sel.is_vertex.cpu()] = torch.arange(int(sel.is_vertex.sum()))
        key = ("where", vertices.device)
        if key not in self._cache:
            self._cache[key] = (where.to(vertices.device), sel.index.to(vertices.device), sel.is_vertex.to(vertices.device))
        where, index, is_vertex = self._cache[key]
        from_v = vertices[:, where]
        from_j = joints[:, index.clamp(max=joints.shape[1] - 1)]
        return torch.where(is_vertex[None, :, None], from_v, from_j)

    def __call__(self, betas: torch.Tensor, pose: torch.Tensor, transl: torch.Tensor) -> torch.Tensor:
        """(B, K, 3) posed keypoints of the sets, in OpenPose's order.

        Raises:
            TypeError, ValueError: ``betas`` (B, num_betas), ``pose`` (B, 55, 3), ``transl`` (B, 3) not so.
        """
        check_tensor(betas, "betas", (None, self.model.num_betas), finite=False)
        check_tensor(pose, "pose", (betas.shape[0], kx.SMPLX_NUM_JOINTS, 3), finite=False, hint="full SMPL-X pose")
        check_tensor(transl, "transl", (betas.shape[0], 3), finite=False)
        joints, verts = self._posed(betas, pose.to(betas), transl.to(betas), self.keypoint_vertices)
        return self._keypoints(joints, verts)


# --------------------------------------------------------------------------- the schedule


@dataclass
class SMPLifyXStage:
    """Weights and iterations of one SMPLify-X stage (paper weights; squared as in SMPLify, except ``collision``).

    Attributes:
        body_pose: ``lambda_theta_b`` on :func:`E_theta_b`.
        hand_pose: ``lambda_m_h`` on :func:`E_mh`.
        jaw_pose: ``lambda_theta_f`` on :func:`E_theta_f`.
        shape: ``lambda_beta`` on :func:`E_beta`.
        expression: ``lambda_epsilon`` on :func:`E_epsilon`.
        angle: ``lambda_alpha`` on :func:`E_alpha`.
        hands_data: the hands' keypoint weight ``gamma`` in :func:`E_J` (the body's is 1).
        face_data: the face's keypoint weight in :func:`E_J`.
        collision: ``lambda_c`` on :func:`E_c` (m^2), not squared.
        iterations: L-BFGS iterations.

    Raises:
        TypeError, ValueError: a weight that is not a finite number >= 0, ``iterations`` not an integer >= 0.
    """

    body_pose: float
    hand_pose: float
    jaw_pose: float
    shape: float
    expression: float
    angle: float
    hands_data: float
    face_data: float
    collision: float
    iterations: int = 30

    def __post_init__(self) -> None:
        for name in ("body_pose", "hand_pose", "jaw_pose", "shape", "expression", "angle", "hands_data", "face_data",
                     "collision"):
            check_positive(getattr(self, name), f"SMPLifyXStage.{name}", allow_zero=True)
        check_positive(self.iterations, "SMPLifyXStage.iterations", integer=True, allow_zero=True)


#: Our scale of ``E_c``'s weight (pixels^2 per m^2): SMPLify-X's stage weights ``[0, 0, 0, 0.01, 1]``
#: times this. Our penetration field is not SMPLify-X's, so neither is its weight. Chosen on the
#: constructed hand-through-torso pose of the tests (no corpus data): of 1e4, 1e5 and 1e6, all of
#: which removed every intersection (27 intersecting pairs remained without E_c), 1e5 left the lowest
#: mean 2D keypoint error (7.6, 7.1, 8.1 px; 5.1 px without E_c).
COLLISION_SCALE = 1e5


def smplifyx_stages(iterations: int = 30, collision_scale: float = COLLISION_SCALE) -> tuple[SMPLifyXStage, ...]:
    """SMPLify-X's five stages (its configuration's weights).

    ``lambda_theta_b = lambda_m_h = [404, 404, 57.4, 4.78, 4.78]``, ``lambda_theta_f = 10 x`` those,
    ``lambda_beta = lambda_epsilon = [100, 50, 10, 0.5, 0.5]``, hands' keypoint weight
    ``[0, 0, 0, 0.1, 2]``, the face's ``[0, 0, 0, 0, 2]``, ``lambda_c = [0, 0, 0, 0.01, 1] x
    collision_scale``; ``lambda_alpha = 0.317 lambda_theta_b`` as in :func:`humanlib.fitting.smplify.smplify_stages`.

    Raises:
        TypeError, ValueError: ``iterations`` not an integer >= 0, ``collision_scale`` not a number >= 0.
    """
    check_positive(iterations, "iterations", integer=True, allow_zero=True)
    check_positive(collision_scale, "collision_scale", allow_zero=True)
    body = (404.0, 404.0, 57.4, 4.78, 4.78)
    shape = (100.0, 50.0, 10.0, 0.5, 0.5)
    hands, face, coll = (0.0, 0.0, 0.0, 0.1, 2.0), (0.0, 0.0, 0.0, 0.0, 2.0), (0.0, 0.0, 0.0, 0.01, 1.0)
    return tuple(SMPLifyXStage(b, b, 10 * b, s, s, 0.317 * b, h, f, c * collision_scale, iterations)
                 for b, s, h, f, c in zip(body, shape, hands, face, coll))


@dataclass
class SMPLifyXConfig:
    """Everything that configures :func:`fit_smplifyx` (the fields shared with SMPLify mean what they mean there).

    Attributes:
        stages: the stages, in order (:func:`smplifyx_stages`).
        sets: the keypoint sets given (``body`` is required: the camera starts from the torso).
        sigma_px: Geman-McClure scale of ``E_J``.
        square_weights: multiply the energies by ``lambda^2`` (SMPLify's convention) or by ``lambda``.
        camera_iterations, depth_weight, flip_test, flip_threshold_px: the camera step and flip test
            (:class:`humanlib.fitting.smplify.SMPLifyConfig`).
        use_collision: include ``E_c`` (ablation switch).
        freeze_hands_face: keep the 30 finger joints and the jaw (the eyes always are) at exactly zero:
            the SMPL-X-layout model with flat hands is SMPL's body (the open models share one mesh), so
            this fits "SMPL" to body, hand and face keypoints, its rigid hands and head taking them
            (SMPLify-X's Table 1 row). The hand and jaw priors are then constant.
        collision_sigma: the penetration field's depth in circumradii.
        collision_every: in a stage with ``E_c``, the intersecting pairs are searched again (on the
            full mesh) every this many L-BFGS iterations, and a new L-BFGS starts; between searches the
            pairs are fixed. (Once per stage missed the intersections a stage creates: on the
            hand-through-torso test pose the last stage, whose hand and face weights rise, made new ones.)
        min_visible_joints: frames with fewer body keypoints of positive confidence are invalid.
        on_invalid: ``"raise"`` or ``"skip"``.
        lbfgs_history, optimizer, precision: as in SMPLify.

    Raises:
        TypeError, ValueError: naming the field.
    """

    stages: tuple[SMPLifyXStage, ...] = field(default_factory=smplifyx_stages)
    sets: tuple[str, ...] = ("body", "hands", "face")
    sigma_px: float = 100.0
    square_weights: bool = True
    camera_iterations: int = 30
    depth_weight: float = 100.0
    flip_test: bool = True
    flip_threshold_px: float = 40.0
    use_collision: bool = True
    freeze_hands_face: bool = False
    collision_sigma: float = 2.0
    collision_every: int = 15
    min_visible_joints: int = 6
    on_invalid: str = "raise"
    lbfgs_history: int = 10
    optimizer: str = "per-frame"
    precision: str = "float64"

    def __post_init__(self) -> None:
        if isinstance(self.stages, SMPLifyXStage) or not isinstance(self.stages, (tuple, list)) or not self.stages:
            raise TypeError("SMPLifyXConfig.stages must be a non-empty tuple of SMPLifyXStage (e.g. smplifyx_stages())")
        wrong = [type(st).__name__ for st in self.stages if not isinstance(st, SMPLifyXStage)]
        if wrong:
            raise TypeError(f"SMPLifyXConfig.stages must hold SMPLifyXStage objects; got {', '.join(wrong)}")
        self.stages = tuple(self.stages)
        self.sets = kx._check_sets(self.sets)
        if "body" not in self.sets:
            raise ValueError(f"SMPLifyXConfig.sets must include 'body' (the camera starts from the torso); got {self.sets}")
        for name in ("square_weights", "flip_test", "use_collision", "freeze_hands_face"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"SMPLifyXConfig.{name} must be True or False; got {getattr(self, name)!r}")
        check_positive(self.collision_sigma, "SMPLifyXConfig.collision_sigma")
        check_positive(self.collision_every, "SMPLifyXConfig.collision_every", integer=True)
        check_positive(self.min_visible_joints, "SMPLifyXConfig.min_visible_joints", integer=True)
        if self.min_visible_joints > kx.KEYPOINT_SETS["body"]:
            raise ValueError(f"SMPLifyXConfig.min_visible_joints must be <= 25; got {self.min_visible_joints}")
        self.smplify_config()  # the shared fields' checks

    def smplify_config(self):
        """The :class:`~humanlib.fitting.smplify.SMPLifyConfig` of the shared fields (camera step, solver)."""
        from humanlib.fitting.smplify import SMPLifyConfig, SMPLifyStage

        return SMPLifyConfig(stages=(SMPLifyStage(0.0, 0.0, 0.0, 0.0, 0),), sigma_px=self.sigma_px,
                             square_weights=self.square_weights, camera_iterations=self.camera_iterations,
                             depth_weight=self.depth_weight, flip_test=self.flip_test,
                             flip_threshold_px=self.flip_threshold_px, use_interpenetration=False,
                             on_invalid=self.on_invalid, lbfgs_history=self.lbfgs_history,
                             optimizer=self.optimizer, precision=self.precision)

    def weight(self, value: float) -> float:
        """``value^2`` with ``square_weights``, else ``value``.

        Raises:
            TypeError, ValueError: ``value`` not a finite number >= 0.
        """
        check_positive(value, "value", allow_zero=True)
        return value * value if self.square_weights else value


@dataclass
class SMPLifyXResult:
    """Output of :func:`fit_smplifyx` (camera frame, metres).

    Attributes:
        betas: (B, num_betas).
        pose: (B, 55, 3) full SMPL-X pose (eyes at zero).
        transl: (B, 3).
        expression: (B, E) expression coefficients (E = 0 on the open model).
        energy: (B,) final total energy (NaN for skipped frames).
        data_energy: (B,) final ``E_J`` (last stage's keypoint weights).
        valid: (B,) False for skipped frames.
        flipped: (B,) True where the flip test kept the turned-around body.
        stage_energy: mean energy over the bodies after the camera step and each stage.
        collision_pairs: per stage with ``E_c``, the most intersecting triangle pairs one search found (all bodies).
    """

    betas: torch.Tensor
    pose: torch.Tensor
    transl: torch.Tensor
    expression: torch.Tensor
    energy: torch.Tensor
    data_energy: torch.Tensor
    valid: torch.Tensor
    flipped: torch.Tensor
    stage_energy: list[float]
    collision_pairs: list[int]


# --------------------------------------------------------------------------- the fit


class _Body24:
    """SMPLify's camera step on an SMPL-X body: joints 0..23 of a pose whose joints 0..21 are SMPL's."""

    def __init__(self, body: KeypointBody) -> None:
        self.body = body
        self.none = torch.zeros(0, dtype=torch.long)

    def __call__(self, betas, pose24, transl):
        pose = torch.cat([pose24[:, :22], pose24.new_zeros(pose24.shape[0], kx.SMPLX_NUM_JOINTS - 22, 3)], 1)
        return self.body._posed(betas, pose, transl, self.none)[0][:, :24]

    def rest_mesh(self, betas):
        joints = self(betas, betas.new_zeros(betas.shape[0], 24, 3), betas.new_zeros(betas.shape[0], 3))
        return joints, joints


def _body_keypoints_as_smpl(keypoints, confidence, sets):
    """The BODY_25 keypoints that are SMPL joints, as SMPLify's (B, 24, 2) array (others: confidence 0)."""
    from humanlib.skeleton import joint

    start = 0
    for s in sets:
        if s == "body":
            break
        start += kx.KEYPOINT_SETS[s]
    kp24 = keypoints.new_zeros(keypoints.shape[0], 24, 2)
    conf24 = confidence.new_zeros(confidence.shape[0], 24)
    for i, name in enumerate(kx.OPENPOSE_BODY25_NAMES):
        if name in kx._BODY_JOINTS:
            j = joint(kx._BODY_JOINTS[name])
            kp24[:, j], conf24[:, j] = keypoints[:, start + i], confidence[:, start + i]
    return kp24, conf24


class _StageEnergyX:
    """SMPLify-X's total energy of a stage, per body, on any subset of the bodies (separable)."""

    def __init__(self, body, prior, hand_prior, keypoints, confidence, camera, config, set_index):
        self.body, self.prior, self.hand_prior = body, prior, hand_prior
        self.keypoints, self.confidence, self.camera, self.config = keypoints, confidence, camera, config
        self.set_index = set_index  # (K,) 0 body, 1 hands, 2 face
        self.stage = config.stages[0]
        self.vertex_ids = body.keypoint_vertices
        self.pairs = None  # (P, 3) (body, local s, local t) into self.faces
        self.faces = None
        self.jaw_w = None

    def set_stage(self, stage, pairs=None, faces=None) -> None:
        self.stage, self.pairs, self.faces = stage, pairs, faces
        gamma = torch.tensor([1.0, stage.hands_data, stage.face_data], dtype=self.keypoints.dtype)
        self.gamma = torch.tensor([self.config.weight(float(g)) for g in gamma], dtype=self.keypoints.dtype,
                                  device=self.keypoints.device)[self.set_index]

    def pose(self, params, global_orient, jaw, hands):
        if self.config.freeze_hands_face:  # SMPL's rigid hands and head: fingers and jaw stay exactly at zero
            jaw, hands = jaw * 0, hands * 0
        b = params.shape[0]
        body = self.prior.to_body_pose_unchecked(params)
        eyes = body.new_zeros(b, 2, 3)
        return torch.cat([global_orient[:, None], body, jaw[:, None], eyes, hands], 1)

    def terms(self, params, global_orient, transl, betas, hands, jaw, idx):
        """``(E, E_J, pose)`` of bodies ``idx``."""
        from humanlib.fitting.camera import _project

        c, st, w = self.config, self.stage, self.config.weight
        if c.freeze_hands_face:
            jaw, hands = jaw * 0, hands * 0
        pose = self.pose(params, global_orient, jaw, hands)
        n_kp = len(self.body.keypoint_vertices)
        ids = self.vertex_ids
        joints, verts = self.body._posed(betas, pose, transl, ids)
        kp3 = self.body._keypoints(joints, verts[:, :n_kp])
        e_j = _E_J(_project(kp3, self.camera.index(idx)), self.keypoints[idx], self.confidence[idx], self.gamma,
                   c.sigma_px)
        e = e_j + w(st.body_pose) * self.prior.params_energy_unchecked(params)
        e = e + w(st.hand_pose) * self.hand_prior._energy(hands)
        e = e + w(st.jaw_pose) * (jaw * jaw.new_tensor(JAW_AXIS_WEIGHTS)).square().sum(-1)
        e = e + w(st.shape) * betas.square().sum(-1)
        e = e + w(st.angle) * angle_energy(pose[:, :24])
        if self.pairs is not None and len(self.pairs):
            where = torch.full((len(self.keypoints),), -1, dtype=torch.long, device=idx.device)
            where[idx] = torch.arange(len(idx), device=idx.device)
            rows = where[self.pairs[:, 0]]
            keep = rows >= 0
            if bool(keep.any()):
                pairs = torch.cat([rows[keep, None], self.pairs[keep, 1:]], 1)
                from humanlib.fitting.collision import _collision_energy

                e = e + st.collision * _collision_energy(verts[:, n_kp:], self.faces, pairs, c.collision_sigma)
        return e, e_j, pose

    def __call__(self, values, idx):
        return self.terms(*values, idx)[0]


def _stage_pairs(model, parts, body, energy, values, n_kp):
    """Intersecting pairs of the current bodies, in the local numbering of the extra vertices they touch."""
    with torch.no_grad():
        params, global_orient, transl, betas, hands, jaw = values
        pose = energy.pose(params, global_orient, jaw, hands)
        dtype = model.v_template.dtype
        verts = model(betas=betas.to(dtype), pose=pose.to(dtype), transl=transl.to(dtype)).vertices
        pairs = collision_pairs(verts, model, parts)
    if len(pairs) == 0:
        return pairs, None, body.keypoint_vertices
    faces = model.faces.to(pairs.device)
    tri = torch.cat([pairs[:, 1], pairs[:, 2]])
    used = torch.unique(faces[tri])
    local = torch.full((model.num_vertices,), -1, dtype=torch.long, device=pairs.device)
    local[used] = torch.arange(len(used), device=pairs.device)
    p = len(pairs)
    local_faces = local[faces[tri]]  # (2P, 3): the s triangles, then the t triangles
    local_pairs = torch.stack([pairs[:, 0], torch.arange(p, device=pairs.device),
                               p + torch.arange(p, device=pairs.device)], 1)
    ids = torch.cat([body.keypoint_vertices, used.cpu()])
    return local_pairs, local_faces, ids


def fit_smplifyx(model, keypoints: torch.Tensor, confidence: torch.Tensor, camera, prior=None,
                 hand_prior: HandPosePrior | None = None, config: SMPLifyXConfig | None = None) -> SMPLifyXResult:
    """Fit an SMPL-X-layout model to body, hand and face keypoints with SMPLify-X's staged energy.

    The steps are SMPLify's (:mod:`humanlib.fitting.smplify`, reused): the bodies to fit (each valid
    frame and a turned-around copy of side views), the camera and global orientation from the torso
    keypoints (the BODY_25 keypoints that are SMPL joints), then SMPLify-X's stages
    (:func:`smplifyx_stages`), each an L-BFGS per frame over VPoser's ``z``, the global orientation,
    translation, shape, both hands' 30 finger joints and the jaw, and for each frame the better of
    its two orientations. ``E_c``'s intersecting pairs are searched on the full mesh at the start of
    each stage where its weight is > 0 and again every ``config.collision_every`` iterations; in
    between only the vertices of those triangles are posed (with the keypoints' ones,
    :class:`KeypointBody`).

    Args:
        model: an SMPL-X-layout :class:`humanlib.body.BodyModel` (55 joints), on the keypoints' device.
        keypoints: (B, K, 2) pixels, the sets of ``config.sets`` in OpenPose's order (K = 25, 67 or 118
            for body / body+hands / body+hands+face).
        confidence: (B, K) detection confidences (0 = missing).
        camera: ``B`` known cameras (:class:`humanlib.fitting.camera.Camera`).
        prior: the body pose prior (default: VPoser, ``load_prior("vposer")``).
        hand_prior: :class:`HandPosePrior` (default: built from ``model``).
        config: :class:`SMPLifyXConfig`.

    Returns:
        :class:`SMPLifyXResult`.

    Raises:
        TypeError, ValueError: an SMPL model (24 joints) where SMPL-X is needed, keypoints of the wrong
            width for ``config.sets`` (missing face keypoints named), a camera of another batch, frames
            with too few body keypoints (``on_invalid="raise"``), a config or prior of the wrong class.
    """
    from humanlib.fitting.camera import check_camera
    from humanlib.fitting.smplify import _bodies_to_fit, _better_orientation, _initialise_camera, _minimise
    from humanlib.priors import PosePrior

    config = SMPLifyXConfig() if config is None else config
    if not isinstance(config, SMPLifyXConfig):
        raise TypeError(f"config must be an SMPLifyXConfig; got {type(config).__name__}")
    kx._check_model(model)
    if prior is None:
        from humanlib.priors.registry import load_prior

        prior = load_prior("vposer")
    if not isinstance(prior, PosePrior):
        raise TypeError(f"prior must be a humanlib.priors.PosePrior (or None for VPoser); got {type(prior).__name__}")
    hand_prior = HandPosePrior(model) if hand_prior is None else hand_prior
    if not isinstance(hand_prior, HandPosePrior):
        raise TypeError(f"hand_prior must be a HandPosePrior or None; got {type(hand_prior).__name__}")
    check_keypoints_x(keypoints, confidence, config.sets)
    if keypoints.dtype not in (torch.float32, torch.float64) or keypoints.shape[0] == 0:
        raise ValueError(f"keypoints must be a non-empty float32 or float64 batch; got {keypoints.dtype}, "
                         f"{keypoints.shape[0]} frames")
    check_camera(camera, keypoints.shape[0], "frames of keypoints")
    if model.v_template.device != keypoints.device:
        raise ValueError(f"the model is on {model.v_template.device} but keypoints on {keypoints.device}; move one")
    out_dtype, device = keypoints.dtype, keypoints.device
    work = torch.float64 if config.precision == "float64" else out_dtype
    kp = torch.where(torch.isfinite(keypoints), keypoints, torch.zeros_like(keypoints)).to(work)
    conf = confidence.to(work)
    cam = camera.to(device, work)
    sconf = config.smplify_config()
    had = getattr(prior, "to", None)
    from humanlib.fitting.smplify import _module_dtype

    prior_dtype = _module_dtype(prior)
    if had is not None:
        prior.to(device=device, dtype=work)
    try:
        return _fit_x(model, kp, conf, cam, prior, hand_prior, config, sconf, out_dtype,
                      (_bodies_to_fit, _better_orientation, _initialise_camera, _minimise))
    finally:
        if had is not None and prior_dtype is not None:
            prior.to(dtype=prior_dtype)


def _fit_x(model, kp, conf, cam, prior, hand_prior, config, sconf, out_dtype, steps):
    _bodies_to_fit, _better_orientation, _initialise_camera, _minimise = steps
    device, dtype = kp.device, kp.dtype
    n = kp.shape[0]
    nb = model.num_betas
    kp24, conf24 = _body_keypoints_as_smpl(kp, conf, config.sets)
    body_conf = conf[:, :0]
    start = 0
    for s in config.sets:
        if s == "body":
            body_conf = conf[:, start:start + 25]
        start += kx.KEYPOINT_SETS[s]
    valid = (body_conf > 0).sum(-1) >= config.min_visible_joints
    if not valid.all() and config.on_invalid == "raise":
        bad = torch.nonzero(~valid).squeeze(-1).tolist()
        raise ValueError(f"frames {bad[:20]} have fewer than {config.min_visible_joints} body keypoints with positive "
                         "confidence; remove them or use SMPLifyXConfig(on_invalid='skip')")
    frames = torch.nonzero(valid).squeeze(-1)
    out = SMPLifyXResult(kp.new_zeros(n, nb), kp.new_zeros(n, kx.SMPLX_NUM_JOINTS, 3), kp.new_zeros(n, 3),
                         kp.new_zeros(n, 0), kp.new_full((n,), float("nan")), kp.new_full((n,), float("nan")),
                         valid, torch.zeros(n, dtype=torch.bool, device=device), [], [])
    out.pose[:, 0] = torch.tensor([math.pi, 0.0, 0.0], dtype=dtype, device=device)
    if len(frames) == 0:
        return _cast_result(out, out_dtype)
    body = KeypointBody(model, config.sets)
    bodies = _bodies_to_fit(kp24, conf24, cam, frames, sconf, None)
    global_orient, transl, start_pose = _initialise_camera(nb, _Body24(body), prior, bodies, sconf)
    rows = frames[bodies.source]
    set_index = torch.tensor([("body", "hands", "face").index(s) for s in set_of_keypoints(config.sets)], device=device)
    energy = _StageEnergyX(body, prior, hand_prior, kp[rows], conf[rows], bodies.camera, config, set_index)
    b = len(bodies)
    a = hand_prior.frames[:, 0].to(kp)
    hands = (hand_prior.relaxed.to(kp)[:, None] * a)[None].repeat(b, 1, 1)
    values = [prior.init_params(start_pose).detach(), global_orient, transl, kp.new_zeros(b, nb), hands,
              kp.new_zeros(b, 3)]
    for v in values:
        v.requires_grad_(True)
    every = torch.arange(b, device=device)
    parts = mesh_parts(model) if config.use_collision else None
    energy.set_stage(config.stages[0])
    with torch.no_grad():
        out.stage_energy.append(float(energy(values, every).mean()))
    n_kp = len(body.keypoint_vertices)
    for stage in config.stages:
        energy.vertex_ids = body.keypoint_vertices
        if not (config.use_collision and stage.collision > 0):
            energy.set_stage(stage)
            _minimise(values, energy, stage.iterations, sconf)
        else:  # the pairs are searched again every `collision_every` iterations (a new L-BFGS each time)
            found = 0
            for done in range(0, max(stage.iterations, 1), config.collision_every):
                pairs, faces, energy.vertex_ids = _stage_pairs(model, parts, body, energy, values, n_kp)
                found = max(found, int(len(pairs)))
                energy.set_stage(stage, pairs if len(pairs) else None, faces)
                _minimise(values, energy, min(config.collision_every, stage.iterations - done), sconf)
            out.collision_pairs.append(found)
        with torch.no_grad():
            out.stage_energy.append(float(energy(values, every).mean()))
    with torch.no_grad():
        total, e_j, pose = energy.terms(*values, every)
        if not (torch.isfinite(total).all() and torch.isfinite(pose).all()):
            raise RuntimeError("SMPLify-X produced a non-finite fit; check the keypoints, camera and weights")
        best = _better_orientation(total, bodies.source, len(frames))
        out.betas[frames] = values[3].detach()[best]
        out.pose[frames] = pose[best]
        out.transl[frames] = values[2].detach()[best]
        out.energy[frames] = total[best]
        out.data_energy[frames] = e_j[best]
        out.flipped[frames] = bodies.flipped[best]
    return _cast_result(out, out_dtype)


def _cast_result(out: SMPLifyXResult, dtype) -> SMPLifyXResult:
    for name in ("betas", "pose", "transl", "expression", "energy", "data_energy"):
        setattr(out, name, getattr(out, name).to(dtype))
    return out

__all__ = [
    "COLLISION_SCALE",
    "COUPLING_SIGMA",
    "KeypointBody",
    "SMPLifyXConfig",
    "SMPLifyXResult",
    "SMPLifyXStage",
    "fit_smplifyx",
    "smplifyx_stages",
    "DIP_PIP_RATIO",
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
