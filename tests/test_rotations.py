"""Tests for humanlib.rotations: conventions, round trips, gradients, roma, Pose-NDF distance."""

import math

import numpy as np
import pytest
import roma
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from humanlib import rotations as rot

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
DTYPES = [torch.float32, torch.float64]
F64 = torch.float64
PI = math.pi

CONVERSIONS = {
    # name: (function, trailing input shape)
    "axis_angle_to_rotmat": (rot.axis_angle_to_rotmat, (3,)),
    "rotmat_to_axis_angle": (rot.rotmat_to_axis_angle, (3, 3)),
    "axis_angle_to_quat": (rot.axis_angle_to_quat, (3,)),
    "quat_to_axis_angle": (rot.quat_to_axis_angle, (4,)),
    "quat_to_rotmat": (rot.quat_to_rotmat, (4,)),
    "rotmat_to_quat": (rot.rotmat_to_quat, (3, 3)),
    "rot6d_to_rotmat": (rot.rot6d_to_rotmat, (6,)),
    "rotmat_to_rot6d": (rot.rotmat_to_rot6d, (3, 3)),
}


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def random_axis_angle(*shape, seed=0, max_angle=PI - 1e-3, dtype=F64):
    """Rotation vectors with uniformly random axes and angles in [0, max_angle)."""
    g = gen(seed)
    axis = rot._normalize(torch.randn(*shape, 3, generator=g, dtype=dtype))
    return axis * max_angle * torch.rand(*shape, 1, generator=g, dtype=dtype)


def random_input(trailing, *shape, seed=0, dtype=F64):
    """A valid, non-singular input for a conversion taking (..., *trailing)."""
    if trailing == (3,):
        return random_axis_angle(*shape, seed=seed, dtype=dtype)
    if trailing == (4,):
        return rot.random_quat(*shape, generator=gen(seed), dtype=dtype)
    if trailing == (6,):
        return torch.randn(*shape, 6, generator=gen(seed), dtype=dtype)
    return rot.quat_to_rotmat(rot.random_quat(*shape, generator=gen(seed), dtype=dtype))


def special_inputs(dtype=F64):
    """Rotation vectors at angle 0, tiny angles, and exactly π about axes and a diagonal."""
    d = torch.tensor([1.0, 1.0, 1.0], dtype=dtype) / math.sqrt(3.0)
    return torch.stack(
        [
            torch.zeros(3, dtype=dtype),
            torch.tensor([1e-9, -2e-9, 0.5e-9], dtype=dtype),
            torch.tensor([PI, 0.0, 0.0], dtype=dtype),
            torch.tensor([0.0, PI, 0.0], dtype=dtype),
            torch.tensor([0.0, 0.0, -PI], dtype=dtype),
            PI * d,
        ]
    )


def same_rotation_quat(q1, q2, atol):
    """q1 and q2 agree up to the global sign (the double cover)."""
    dot = (q1 * q2).sum(-1, keepdim=True)
    return torch.allclose(q1 * torch.sign(dot), q2, atol=atol)


# Hypothesis strategies: components in [-1.8, 1.8] keep |r| <= 1.8·√3 < π (principal range).
batch_shapes = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)


@st.composite
def axis_angles(draw, bound=1.8):
    shape = draw(batch_shapes)
    a = draw(arrays(np.float64, shape + (3,), elements=st.floats(-bound, bound, width=64)))
    return torch.from_numpy(a)


@st.composite
def quats(draw):
    shape = draw(batch_shapes)
    a = draw(arrays(np.float64, shape + (4,), elements=st.floats(-1.0, 1.0, width=64)))
    q = torch.from_numpy(a)
    # Keep away from the zero quaternion (no rotation at all): push tiny ones onto a basis vector.
    tiny = q.norm(dim=-1, keepdim=True) < 1e-3
    return torch.where(tiny, torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=F64), q)


# --------------------------------------------------------------------------- conventions


def test_quaternion_order_is_wxyz():
    q = rot.axis_angle_to_quat(torch.tensor([0.5, 0.0, 0.0], dtype=F64))
    expected = torch.tensor([math.cos(0.25), math.sin(0.25), 0.0, 0.0], dtype=F64)
    torch.testing.assert_close(q, expected)


def test_rotmat_acts_on_column_vectors():
    """A quarter turn about +z maps +x to +y."""
    R = rot.axis_angle_to_rotmat(torch.tensor([0.0, 0.0, PI / 2], dtype=F64))
    torch.testing.assert_close(R @ torch.tensor([1.0, 0.0, 0.0], dtype=F64),
                               torch.tensor([0.0, 1.0, 0.0], dtype=F64))


def test_rot6d_is_first_two_columns():
    R = random_input((3, 3), 5)
    torch.testing.assert_close(rot.rotmat_to_rot6d(R), torch.cat([R[..., :, 0], R[..., :, 1]], -1))


def test_quat_multiply_matches_matrix_product():
    p = rot.random_quat(7, generator=gen(1), dtype=F64)
    q = rot.random_quat(7, generator=gen(2), dtype=F64)
    torch.testing.assert_close(rot.quat_to_rotmat(rot.quat_multiply(p, q)),
                               rot.quat_to_rotmat(p) @ rot.quat_to_rotmat(q))


def test_quat_conjugate_is_inverse():
    q = rot.random_quat(6, generator=gen(3), dtype=F64)
    identity = torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=F64).expand(6, 4)
    torch.testing.assert_close(rot.quat_multiply(q, rot.quat_conjugate(q)), identity)


def test_axis_angle_compose_matches_matrix_product():
    r1, r2 = random_axis_angle(8, seed=4), random_axis_angle(8, seed=5)
    torch.testing.assert_close(rot.axis_angle_to_rotmat(rot.axis_angle_compose(r1, r2)),
                               rot.axis_angle_to_rotmat(r1) @ rot.axis_angle_to_rotmat(r2))


# --------------------------------------------------------------------------- round trips


@settings(max_examples=60, deadline=None)
@given(axis_angles())
def test_axis_angle_rotmat_axis_angle(r):
    """axis-angle -> rotmat -> axis-angle is the identity within the principal range."""
    torch.testing.assert_close(rot.rotmat_to_axis_angle(rot.axis_angle_to_rotmat(r)), r,
                               atol=1e-9, rtol=0)


@settings(max_examples=60, deadline=None)
@given(axis_angles())
def test_axis_angle_quat_axis_angle(r):
    torch.testing.assert_close(rot.quat_to_axis_angle(rot.axis_angle_to_quat(r)), r,
                               atol=1e-9, rtol=0)


@settings(max_examples=60, deadline=None)
@given(quats())
def test_quat_rotmat_quat_up_to_sign(q):
    q_unit = q / q.norm(dim=-1, keepdim=True)
    back = rot.rotmat_to_quat(rot.quat_to_rotmat(q))
    assert back.shape == q.shape
    assert same_rotation_quat(back, q_unit, atol=1e-9)
    assert bool((back[..., 0] >= 0).all())


@settings(max_examples=60, deadline=None)
@given(quats())
def test_rotmat_is_a_rotation(q):
    R = rot.quat_to_rotmat(q)
    eye = torch.eye(3, dtype=F64).expand_as(R)
    torch.testing.assert_close(R.transpose(-1, -2) @ R, eye, atol=1e-9, rtol=0)
    torch.testing.assert_close(torch.linalg.det(R), torch.ones(R.shape[:-2], dtype=F64))


@settings(max_examples=60, deadline=None)
@given(quats())
def test_rotmat_rot6d_rotmat(q):
    R = rot.quat_to_rotmat(q)
    torch.testing.assert_close(rot.rot6d_to_rotmat(rot.rotmat_to_rot6d(R)), R, atol=1e-9, rtol=0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rot6d_gram_schmidt_gives_rotations_and_ignores_scale_and_shear(dtype):
    x = torch.randn(50, 6, generator=gen(6), dtype=dtype)
    R = rot.rot6d_to_rotmat(x)
    atol = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(R.transpose(-1, -2) @ R, torch.eye(3, dtype=dtype).expand_as(R),
                               atol=atol, rtol=0)
    torch.testing.assert_close(torch.linalg.det(R), torch.ones(50, dtype=dtype), atol=atol, rtol=0)
    # Gram–Schmidt only sees the plane and orientation: scaling a1, a2 and adding a1 to a2
    # changes nothing.
    a1, a2 = x[:, :3], x[:, 3:]
    y = torch.cat([2.5 * a1, 0.3 * a2 + 0.7 * a1], -1)
    torch.testing.assert_close(rot.rot6d_to_rotmat(y), R, atol=10 * atol, rtol=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_special_angles_round_trip(dtype, device):
    """At 0, tiny angles and exactly π the rotation survives every round trip."""
    r = special_inputs(dtype).to(device)
    R = rot.axis_angle_to_rotmat(r)
    atol = 1e-5 if dtype == torch.float32 else 1e-12
    for r_back in (rot.rotmat_to_axis_angle(R), rot.quat_to_axis_angle(rot.axis_angle_to_quat(r))):
        assert r_back.dtype == dtype and r_back.device == R.device
        torch.testing.assert_close(rot.axis_angle_to_rotmat(r_back), R, atol=atol, rtol=0)
        torch.testing.assert_close(r_back.norm(dim=-1), r.norm(dim=-1), atol=atol, rtol=0)


@pytest.mark.parametrize("angle", [1e-6, 3e-4, 0.999e-3, 1.001e-3, 3e-3])
def test_small_angle_branches_are_exact_to_float64(angle):
    """Both sides of the Taylor-series switch (1e-3 rad) agree with exact formulas to a few ulp."""
    axis = rot._normalize(torch.randn(20, 3, generator=gen(29), dtype=F64))
    r = angle * axis
    R = rot.axis_angle_to_rotmat(r)
    sin = math.sin(angle)
    K = rot._skew(axis)
    exact = torch.eye(3, dtype=F64) + sin * K + 2 * math.sin(angle / 2) ** 2 * (K @ K)
    torch.testing.assert_close(R, exact, rtol=0, atol=4e-16)
    q = rot.axis_angle_to_quat(r)
    torch.testing.assert_close(q[:, 1:], math.sin(angle / 2) * axis, rtol=4e-16, atol=0)
    torch.testing.assert_close(rot.quat_to_axis_angle(q), r, rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", sorted(CONVERSIONS))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("batch", [(), (5,), (2, 3, 4)])
def test_batch_shape_dtype_device(name, dtype, device, batch):
    fn, trailing = CONVERSIONS[name]
    x = random_input(trailing, *batch, dtype=dtype).to(device)
    y = fn(x)
    assert y.shape[: len(batch)] == batch
    assert y.dtype == dtype and y.device == x.device
    assert bool(torch.isfinite(y).all())


# --------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("name", sorted(CONVERSIONS))
def test_gradcheck_random(name):
    fn, trailing = CONVERSIONS[name]
    x = random_input(trailing, 4, seed=7).requires_grad_()
    assert torch.autograd.gradcheck(fn, (x,))


@pytest.mark.parametrize("fn", [rot.axis_angle_to_rotmat, rot.axis_angle_to_quat,
                                lambda r: rot.quat_to_axis_angle(rot.axis_angle_to_quat(r))],
                         ids=["to_rotmat", "to_quat", "quat_round_trip"])
def test_gradcheck_near_zero_angle(fn):
    """The Taylor branches (|r| < 1e-3) have the right derivatives, not only finite ones."""
    r = (1e-4 * torch.randn(4, 3, generator=gen(8), dtype=F64)).requires_grad_()
    assert torch.autograd.gradcheck(fn, (r,))


def test_gradcheck_distances():
    q1 = rot.random_quat(3, 5, generator=gen(9), dtype=F64).requires_grad_()
    q2 = rot.random_quat(3, 5, generator=gen(10), dtype=F64).requires_grad_()
    w = torch.rand(5, generator=gen(11), dtype=F64)
    assert torch.autograd.gradcheck(lambda a, b: rot.posendf_distance(a, b, w), (q1, q2))
    assert torch.autograd.gradcheck(rot.quat_geodesic_distance, (q1, q2))
    R1, R2 = rot.quat_to_rotmat(q1.detach()), rot.quat_to_rotmat(q2.detach())
    assert torch.autograd.gradcheck(rot.rotmat_geodesic_distance,
                                    (R1.requires_grad_(), R2.requires_grad_()))


PIPELINES = {
    "axis_angle_to_rotmat": rot.axis_angle_to_rotmat,
    "axis_angle_to_quat": rot.axis_angle_to_quat,
    "rotmat_to_axis_angle": lambda r: rot.rotmat_to_axis_angle(rot.axis_angle_to_rotmat(r)),
    "rotmat_to_quat": lambda r: rot.rotmat_to_quat(rot.axis_angle_to_rotmat(r)),
    "quat_to_axis_angle": lambda r: rot.quat_to_axis_angle(rot.axis_angle_to_quat(r)),
    "quat_to_rotmat": lambda r: rot.quat_to_rotmat(rot.axis_angle_to_quat(r)),
    "rot6d": lambda r: rot.rot6d_to_rotmat(rot.rotmat_to_rot6d(rot.axis_angle_to_rotmat(r))),
    "axis_angle_compose": lambda r: rot.axis_angle_compose(r, r.flip(-1)),
    "rotmat_geodesic_distance": lambda r: rot.rotmat_geodesic_distance(
        rot.axis_angle_to_rotmat(r), torch.eye(3, dtype=r.dtype)),
    "rotmat_geodesic_distance_self": lambda r: rot.rotmat_geodesic_distance(
        rot.axis_angle_to_rotmat(r), rot.axis_angle_to_rotmat(r)),
    "quat_geodesic_distance": lambda r: rot.quat_geodesic_distance(
        rot.axis_angle_to_quat(r), torch.tensor([1.0, 0, 0, 0], dtype=r.dtype)),
    "posendf_distance_self": lambda r: rot.posendf_distance(
        rot.axis_angle_to_quat(r)[None], rot.axis_angle_to_quat(r)[None]),
    "posendf_distance": lambda r: rot.posendf_distance(
        rot.axis_angle_to_quat(r)[None], torch.tensor([[1.0, 0, 0, 0]], dtype=r.dtype)),
}


@pytest.mark.parametrize("name", sorted(PIPELINES))
@pytest.mark.parametrize("dtype", DTYPES)
def test_finite_values_and_gradients_at_zero_and_pi(name, dtype):
    for r0 in special_inputs(dtype):
        r = r0.clone().requires_grad_()
        y = PIPELINES[name](r)
        (grad,) = torch.autograd.grad((y * torch.linspace(1, 2, y.numel(), dtype=dtype)
                                       .reshape(y.shape)).sum(), r)
        assert bool(torch.isfinite(y).all()), (name, r0)
        assert bool(torch.isfinite(grad).all()), (name, r0, grad)


def test_gradient_of_exp_map_at_zero_is_the_hat_map():
    """d/dr (R(r) x) at r = 0 is -[x]_×: the exponential map starts as I + [r]_×."""
    x = torch.tensor([0.3, -1.0, 2.0], dtype=F64)
    jac = torch.autograd.functional.jacobian(lambda r: rot.axis_angle_to_rotmat(r) @ x,
                                             torch.zeros(3, dtype=F64))
    torch.testing.assert_close(jac, -rot._skew(x))


# --------------------------------------------------------------------------- against roma (xyzw)


def test_against_roma_axis_angle_and_rotmat():
    r = random_axis_angle(200, seed=12)
    R = rot.axis_angle_to_rotmat(r)
    torch.testing.assert_close(R, roma.rotvec_to_rotmat(r))
    torch.testing.assert_close(rot.rotmat_to_axis_angle(R), roma.rotmat_to_rotvec(R))


def test_against_roma_quaternions():
    r = random_axis_angle(200, seed=13)
    q = rot.axis_angle_to_quat(r)
    torch.testing.assert_close(q, roma.quat_xyzw_to_wxyz(roma.rotvec_to_unitquat(r)))
    q_xyzw = roma.quat_wxyz_to_xyzw(q)
    torch.testing.assert_close(rot.quat_to_axis_angle(q), roma.unitquat_to_rotvec(q_xyzw))
    torch.testing.assert_close(rot.quat_to_rotmat(q), roma.unitquat_to_rotmat(q_xyzw))
    R = rot.quat_to_rotmat(q)
    assert same_rotation_quat(rot.rotmat_to_quat(R),
                              roma.quat_xyzw_to_wxyz(roma.rotmat_to_unitquat(R)), atol=1e-10)
    p = rot.random_quat(200, generator=gen(14), dtype=F64)
    torch.testing.assert_close(
        rot.quat_multiply(p, q),
        roma.quat_xyzw_to_wxyz(roma.quat_product(roma.quat_wxyz_to_xyzw(p), q_xyzw)))


def test_against_roma_rot6d():
    x = torch.randn(200, 6, generator=gen(15), dtype=F64)
    # roma takes the two vectors as the columns of a (..., 3, 2) matrix.
    torch.testing.assert_close(rot.rot6d_to_rotmat(x),
                               roma.special_gramschmidt(x.reshape(200, 2, 3).transpose(-1, -2)))


def test_against_roma_geodesic_distances():
    q1 = rot.random_quat(200, generator=gen(16), dtype=F64)
    q2 = rot.random_quat(200, generator=gen(17), dtype=F64)
    R1, R2 = rot.quat_to_rotmat(q1), rot.quat_to_rotmat(q2)
    expected = roma.rotmat_geodesic_distance(R1, R2)
    torch.testing.assert_close(rot.rotmat_geodesic_distance(R1, R2), expected)
    torch.testing.assert_close(rot.quat_geodesic_distance(q1, q2), expected)
    torch.testing.assert_close(
        rot.quat_geodesic_distance(q1, q2),
        roma.unitquat_geodesic_distance(roma.quat_wxyz_to_xyzw(q1), roma.quat_wxyz_to_xyzw(q2)))


# --------------------------------------------------------------------------- canonicalisation


@settings(max_examples=60, deadline=None)
@given(quats())
def test_canonicalize_properties(q):
    c = rot.quat_canonicalize(q)
    assert bool((c[..., 0] >= 0).all())
    torch.testing.assert_close(rot.quat_canonicalize(-q), c)  # picks one of {q, -q}
    torch.testing.assert_close(rot.quat_canonicalize(c), c)  # idempotent
    assert bool(((c == q).all(-1) | (c == -q).all(-1)).all())


def test_canonicalize_tie_rule_at_w_zero():
    q = torch.tensor([[0.0, -0.6, 0.8, 0.0], [0.0, 0.0, -1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    expected = torch.tensor([[0.0, 0.6, -0.8, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    torch.testing.assert_close(rot.quat_canonicalize(q), expected)
    torch.testing.assert_close(rot.quat_canonicalize(-q), expected)


def test_random_quat_is_seeded_unit_canonical_and_uniform():
    q = rot.random_quat(20000, generator=gen(18), dtype=F64)
    torch.testing.assert_close(q, rot.random_quat(20000, generator=gen(18), dtype=F64))
    torch.testing.assert_close(q.norm(dim=-1), torch.ones(20000, dtype=F64))
    assert bool((q[:, 0] >= 0).all())
    # Haar measure: E[R] = 0 and the angle density is (1 - cos α)/π, so E[α] = π/2 + 2/π.
    R = rot.quat_to_rotmat(q)
    assert R.mean(0).abs().max() < 0.02
    angle = rot.quat_geodesic_distance(q, torch.tensor([1.0, 0, 0, 0], dtype=F64))
    assert abs(angle.mean().item() - (PI / 2 + 2 / PI)) < 0.02


# --------------------------------------------------------------------------- Pose-NDF distance


def random_pose(*shape, seed):
    return rot.random_quat(*shape, generator=gen(seed), dtype=F64)


def test_posendf_zero_on_identical_poses_and_sign_invariant():
    q = random_pose(4, 21, seed=19)
    torch.testing.assert_close(rot.posendf_distance(q, q), torch.zeros(4, dtype=F64))
    flips = torch.where(torch.rand(4, 21, 1, generator=gen(20)) < 0.5, -1.0, 1.0).to(F64)
    torch.testing.assert_close(rot.posendf_distance(q, q * flips), torch.zeros(4, dtype=F64))
    other = random_pose(4, 21, seed=21)
    torch.testing.assert_close(rot.posendf_distance(q * flips, other),
                               rot.posendf_distance(q, other))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 6), batch_shapes)
def test_posendf_symmetric_nonnegative_triangle(seed, K, batch):
    a, b, c = (random_pose(*batch, K, seed=seed + i) for i in range(3))
    w = torch.rand(K, generator=gen(seed), dtype=F64)
    d_ab = rot.posendf_distance(a, b, w)
    assert d_ab.shape == batch
    torch.testing.assert_close(d_ab, rot.posendf_distance(b, a, w))
    assert bool((d_ab >= 0).all())
    # It is a weighted product metric of per-joint metrics, so the triangle inequality holds.
    d_acb = rot.posendf_distance(a, c, w) + rot.posendf_distance(c, b, w)
    assert bool((d_ab <= d_acb + 1e-12).all())


def test_posendf_one_joint_is_half_geodesic_angle_over_sqrt2():
    """arccos|q1·q2| is half the rotation angle α, so d = sqrt(½ (α/2)²) = α / (2√2)."""
    q1, q2 = random_pose(100, 1, seed=22), random_pose(100, 1, seed=23)
    alpha = rot.quat_geodesic_distance(q1, q2)[:, 0]
    torch.testing.assert_close(rot.posendf_distance(q1, q2), alpha / (2 * math.sqrt(2)))
    # The same value straight from the formula with arccos.
    naive = torch.arccos((q1 * q2).sum(-1).abs().clamp(max=1.0))[:, 0] / math.sqrt(2)
    torch.testing.assert_close(rot.posendf_distance(q1, q2), naive)


def test_posendf_weights():
    q1, q2 = random_pose(10, 3, seed=24), random_pose(10, 3, seed=25)
    half = torch.arccos((q1 * q2).sum(-1).abs().clamp(max=1.0))  # (10, 3)
    w = torch.tensor([0.0, 2.0, 0.5], dtype=F64)
    expected = torch.sqrt((w / 2 * half**2).sum(-1))
    torch.testing.assert_close(rot.posendf_distance(q1, q2, w), expected)
    torch.testing.assert_close(rot.posendf_distance(q1, q2, torch.ones(3, dtype=F64)),
                               rot.posendf_distance(q1, q2))
    # A joint with weight 0 is ignored.
    q2_changed = q2.clone()
    q2_changed[:, 0] = random_pose(10, seed=26)
    torch.testing.assert_close(rot.posendf_distance(q1, q2_changed, w),
                               rot.posendf_distance(q1, q2, w))


def test_posendf_is_accurate_in_float32_for_small_differences():
    """arccos(1 - ε) loses half the float32 digits near 0; the atan2 form keeps them."""
    q = random_pose(50, 1, seed=27)
    r = 1e-3 * rot._normalize(torch.randn(50, 1, 3, generator=gen(28), dtype=F64))
    q32, q_near32 = q.float(), rot.quat_multiply(q, rot.axis_angle_to_quat(r)).float()
    reference = rot.posendf_distance(q32.double(), q_near32.double())  # same inputs, float64
    d32 = rot.posendf_distance(q32, q_near32)
    torch.testing.assert_close(d32.double(), reference, rtol=1e-4, atol=0)
    naive = torch.arccos((q32 * q_near32).sum(-1).abs().clamp(max=1.0))[:, 0] / math.sqrt(2)
    assert (naive.double() - reference).abs().max() > 10 * (d32.double() - reference).abs().max()


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("name", sorted(CONVERSIONS))
def test_wrong_trailing_shape_names_the_shape(name):
    fn, _ = CONVERSIONS[name]
    with pytest.raises(ValueError, match=r"expected \(\.\.\., .*got shape \(4, 2\)"):
        fn(torch.zeros(4, 2))


@pytest.mark.parametrize("name", sorted(CONVERSIONS))
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_input(name, bad):
    fn, trailing = CONVERSIONS[name]
    x = random_input(trailing, 3)
    x.view(-1)[1] = bad
    with pytest.raises(ValueError, match=r"shape \(3, .*non-finite"):
        fn(x)


def test_other_bad_inputs():
    with pytest.raises(ValueError, match=r"expected \(\.\.\., 3\) axis-angle, got shape \(4, 2\)"):
        rot.axis_angle_to_rotmat(torch.zeros(4, 2))
    with pytest.raises(ValueError, match=r"got shape \(3,\)"):
        rot.rotmat_to_quat(torch.zeros(3))
    with pytest.raises(ValueError, match="dtype torch.int64"):
        rot.axis_angle_to_rotmat(torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(TypeError, match="list"):
        rot.axis_angle_to_rotmat([0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"\(5, 4\) and \(3, 4\) do not broadcast"):
        rot.quat_geodesic_distance(torch.ones(5, 4), torch.ones(3, 4))
    with pytest.raises(ValueError, match=r"same K, got shapes \(2, 3, 4\) and \(2, 5, 4\)"):
        rot.posendf_distance(torch.ones(2, 3, 4), torch.ones(2, 5, 4))
    with pytest.raises(ValueError, match=r"same K, got shapes \(4,\)"):
        rot.posendf_distance(torch.ones(4), torch.ones(4))
    with pytest.raises(ValueError, match=r"weights of shape \(3,\), got \(2,\)"):
        rot.posendf_distance(torch.ones(2, 3, 4), torch.ones(2, 3, 4), torch.ones(2))
    with pytest.raises(ValueError, match="non-negative"):
        rot.posendf_distance(torch.ones(3, 4), torch.ones(3, 4), torch.tensor([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="non-finite"):
        rot.quat_multiply(torch.ones(4), torch.tensor([1.0, math.nan, 0.0, 0.0]))
