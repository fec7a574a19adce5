"""Bad inputs to humanlib.rotations, skeleton, paths, viz, body, bodyplot, check and bodybuild:
every public name, a clear error or a defined result."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from bad_inputs import case_id, raises, returns, run_case
from hypothesis import given, settings
from hypothesis import strategies as st

from humanlib import rotations as rot

NAN, INF = float("nan"), float("inf")
META = "meta"


def _with(shape, value=0.0, **kw):
    return torch.full(shape, value, **kw)


def _nan_at(shape):
    x = torch.rand(shape) + 0.1
    x.view(-1)[0] = NAN
    return x


# --------------------------------------------------------------------------- rotations

#: name -> (function, trailing shape, argument name)
_ONE_ARG = {
    "axis_angle_to_rotmat": (rot.axis_angle_to_rotmat, (3,), "r"),
    "rotmat_to_axis_angle": (rot.rotmat_to_axis_angle, (3, 3), "R"),
    "axis_angle_to_quat": (rot.axis_angle_to_quat, (3,), "r"),
    "quat_to_axis_angle": (rot.quat_to_axis_angle, (4,), "q"),
    "quat_to_rotmat": (rot.quat_to_rotmat, (4,), "q"),
    "rotmat_to_quat": (rot.rotmat_to_quat, (3, 3), "R"),
    "rot6d_to_rotmat": (rot.rot6d_to_rotmat, (6,), "x"),
    "rotmat_to_rot6d": (rot.rotmat_to_rot6d, (3, 3), "R"),
    "quat_normalize": (rot.quat_normalize, (4,), "q"),
    "quat_conjugate": (rot.quat_conjugate, (4,), "q"),
    "quat_canonicalize": (rot.quat_canonicalize, (4,), "q"),
}
_OUT_TRAILING = {"axis_angle_to_rotmat": (3, 3), "rotmat_to_axis_angle": (3,), "axis_angle_to_quat": (4,),
                 "quat_to_axis_angle": (3,), "quat_to_rotmat": (3, 3), "rotmat_to_quat": (4,),
                 "rot6d_to_rotmat": (3, 3), "rotmat_to_rot6d": (6,), "quat_normalize": (4,),
                 "quat_conjugate": (4,), "quat_canonicalize": (4,)}


def _valid(trailing, *batch):
    """A valid non-degenerate input of the given trailing shape."""
    if trailing == (3, 3):
        return torch.eye(3).expand(*batch, 3, 3).clone()
    x = torch.rand(*batch, *trailing) + 0.1
    return x


def _rotation_cases():
    cases = []
    for fname, (fn, trailing, arg) in _ONE_ARG.items():
        target = f"humanlib.rotations.{fname}"
        wrong = trailing[:-1] + (trailing[-1] + 1,)
        spec = re.escape("(..., " + ", ".join(map(str, trailing)) + ")")
        cases += [
            raises(target, "wrong trailing shape", lambda fn=fn, wrong=wrong: fn(torch.zeros(2, *wrong)),
                   ValueError, rf"^{arg}: expected {spec}"),
            raises(target, "a scalar instead of a batch", lambda fn=fn: fn(torch.tensor(1.0)), ValueError,
                   rf"{arg}: expected .*got shape \(\)"),
            raises(target, "integer dtype", lambda fn=fn, t=trailing: fn(torch.ones(2, *t, dtype=torch.long)),
                   ValueError, rf"{arg}: expected a floating-point .*torch.int64"),
            raises(target, "NaN", lambda fn=fn, t=trailing: fn(_nan_at((2, *t))), ValueError,
                   rf"{arg}: .*1 non-finite"),
            raises(target, "inf", lambda fn=fn, t=trailing: fn(_with((2, *t), INF)), ValueError,
                   rf"{arg}: .*non-finite"),
            raises(target, "numpy array", lambda fn=fn, t=trailing: fn(np.zeros((2, *t))), TypeError,
                   rf"{arg}: expected a torch.Tensor.*ndarray.*torch.as_tensor"),
            raises(target, "list", lambda fn=fn, t=trailing: fn(_valid(t).tolist()), TypeError,
                   rf"{arg}: .*list.*torch.as_tensor"),
            returns(target, "empty batch gives an empty batch",
                    lambda fn=fn, t=trailing: fn(torch.zeros(0, *t)),
                    lambda y, o=_OUT_TRAILING[fname]: tuple(y.shape) == (0, *o)),
            returns(target, "meta tensor: shape-only check, meta result",
                    lambda fn=fn, t=trailing: fn(torch.zeros(2, *t, device=META)),
                    lambda y, o=_OUT_TRAILING[fname]: y.device.type == META and tuple(y.shape) == (2, *o)),
            returns(target, "float16 is computed without NaN",
                    lambda fn=fn, t=trailing: fn(_valid(t, 2).half()),
                    lambda y: y.dtype == torch.float16 and bool(torch.isfinite(y).all())),
        ]
    for fname in ("quat_to_axis_angle", "quat_to_rotmat"):
        fn = getattr(rot, fname)
        cases.append(raises(f"humanlib.rotations.{fname}", "zero quaternion (no rotation)",
                            lambda fn=fn: fn(torch.tensor([[1.0, 0, 0, 0], [0, 0, 0, 0]])), ValueError,
                            r"q: 1 of the quaternions .* zero"))
    cases += [
        returns("humanlib.rotations.quat_normalize", "zero quaternion stays zero (documented)",
                lambda: rot.quat_normalize(torch.zeros(1, 4)), lambda y: bool((y == 0).all())),
        returns("humanlib.rotations.rot6d_to_rotmat", "degenerate 6D gives zero columns, not NaN",
                lambda: rot.rot6d_to_rotmat(torch.zeros(1, 6)), lambda y: bool(torch.isfinite(y).all())),
    ]
    pairs = {
        "quat_multiply": (rot.quat_multiply, (4,), ("p", "q")),
        "axis_angle_compose": (rot.axis_angle_compose, (3,), ("r1", "r2")),
        "rotmat_geodesic_distance": (rot.rotmat_geodesic_distance, (3, 3), ("R1", "R2")),
        "quat_geodesic_distance": (rot.quat_geodesic_distance, (4,), ("q1", "q2")),
    }
    for fname, (fn, t, (a, b)) in pairs.items():
        target = f"humanlib.rotations.{fname}"
        cases += [
            raises(target, "second argument wrong shape", lambda fn=fn, t=t: fn(_valid(t, 2), torch.zeros(2, 5)),
                   ValueError, rf"^{b}: expected"),
            raises(target, "batch dims do not broadcast", lambda fn=fn, t=t: fn(_valid(t, 5), _valid(t, 3)),
                   ValueError, rf"{a} and {b}: .*\(5, .*\(3, .*do not broadcast"),
            raises(target, "float32 with float64", lambda fn=fn, t=t: fn(_valid(t, 2), _valid(t, 2).double()),
                   ValueError, rf"{a} has dtype torch.float32 but {b} has dtype torch.float64"),
            raises(target, "cpu with meta", lambda fn=fn, t=t: fn(_valid(t, 2), torch.zeros(2, *t, device=META)),
                   ValueError, rf"{a} is on cpu but {b} is on meta"),
            raises(target, "NaN in the first", lambda fn=fn, t=t: fn(_nan_at((2, *t)), _valid(t, 2)),
                   ValueError, rf"^{a}: .*non-finite"),
            raises(target, "list", lambda fn=fn, t=t: fn(_valid(t, 2), _valid(t, 2).tolist()), TypeError,
                   rf"^{b}: .*list"),
            returns(target, "empty batches give an empty result", lambda fn=fn, t=t: fn(_valid(t, 0), _valid(t, 0)),
                    lambda y: y.shape[0] == 0),
        ]
    cases += [
        raises("humanlib.rotations.quat_geodesic_distance", "zero quaternion",
               lambda: rot.quat_geodesic_distance(torch.zeros(4), torch.tensor([1.0, 0, 0, 0])), ValueError,
               r"q1: 1 of the quaternions .*zero"),
        # posendf_distance
        raises("humanlib.rotations.posendf_distance", "different joint counts",
               lambda: rot.posendf_distance(_valid((4,), 2, 3), _valid((4,), 2, 5)), ValueError,
               r"q1 and q2: expected \(\.\.\., K, 4\).*same K"),
        raises("humanlib.rotations.posendf_distance", "no joint dim",
               lambda: rot.posendf_distance(_valid((4,)), _valid((4,))), ValueError, r"same K, got shapes \(4,\)"),
        raises("humanlib.rotations.posendf_distance", "NaN", lambda: rot.posendf_distance(_nan_at((2, 3, 4)), _valid((4,), 2, 3)),
               ValueError, r"q1: .*non-finite"),
        raises("humanlib.rotations.posendf_distance", "zero quaternion",
               lambda: rot.posendf_distance(_valid((4,), 2, 3), torch.zeros(2, 3, 4)), ValueError, r"q2: 6 of the quaternions"),
        raises("humanlib.rotations.posendf_distance", "float64 with float32",
               lambda: rot.posendf_distance(_valid((4,), 2, 3).double(), _valid((4,), 2, 3)), ValueError,
               "q1 has dtype torch.float64 but q2"),
        raises("humanlib.rotations.posendf_distance", "cpu with meta",
               lambda: rot.posendf_distance(_valid((4,), 2, 3), torch.zeros(2, 3, 4, device=META)), ValueError,
               "q1 is on cpu but q2 is on meta"),
        raises("humanlib.rotations.posendf_distance", "weights wrong length",
               lambda: rot.posendf_distance(_valid((4,), 2, 3), _valid((4,), 2, 3), torch.ones(2)), ValueError,
               r"weights of shape \(3,\), got \(2,\)"),
        raises("humanlib.rotations.posendf_distance", "weights as a list",
               lambda: rot.posendf_distance(_valid((4,), 2, 3), _valid((4,), 2, 3), [1.0, 1.0, 1.0]), TypeError,
               r"weights as a torch.Tensor.*list.*torch.as_tensor"),
        raises("humanlib.rotations.posendf_distance", "negative weight",
               lambda: rot.posendf_distance(_valid((4,), 2, 3), _valid((4,), 2, 3), torch.tensor([1.0, -1.0, 1.0])),
               ValueError, "non-negative"),
        raises("humanlib.rotations.posendf_distance", "NaN weight",
               lambda: rot.posendf_distance(_valid((4,), 2, 3), _valid((4,), 2, 3), torch.tensor([1.0, NAN, 1.0])),
               ValueError, "finite"),
        raises("humanlib.rotations.posendf_distance", "weights on another device",
               lambda: rot.posendf_distance(_valid((4,), 2, 3), _valid((4,), 2, 3), torch.ones(3, device=META)),
               ValueError, "weights are on meta but q1 is on cpu"),
        raises("humanlib.rotations.posendf_distance", "boolean weights",
               lambda: rot.posendf_distance(_valid((4,), 2, 3), _valid((4,), 2, 3), torch.ones(3, dtype=torch.bool)),
               ValueError, "weights must be a real-valued tensor"),
        returns("humanlib.rotations.posendf_distance", "float64 weights keep the poses' float32",
                lambda: rot.posendf_distance(_valid((4,), 2, 3), _valid((4,), 2, 3), torch.ones(3, dtype=torch.float64)),
                lambda d: d.dtype == torch.float32 and d.shape == (2,)),
        returns("humanlib.rotations.posendf_distance", "empty batch gives an empty batch",
                lambda: rot.posendf_distance(torch.ones(0, 3, 4), torch.ones(0, 3, 4)), lambda d: d.shape == (0,)),
        returns("humanlib.rotations.posendf_distance", "zero joints: the empty sum, distance 0",
                lambda: rot.posendf_distance(torch.ones(2, 0, 4), torch.ones(2, 0, 4)),
                lambda d: d.shape == (2,) and bool((d == 0).all())),
        # random_quat
        raises("humanlib.rotations.random_quat", "negative batch size", lambda: rot.random_quat(-1), ValueError,
               r"random_quat: batch sizes must be >= 0; got -1"),
        raises("humanlib.rotations.random_quat", "float batch size", lambda: rot.random_quat(2.5), TypeError,
               r"must be an int; got 2.5"),
        raises("humanlib.rotations.random_quat", "shape passed as a tuple", lambda: rot.random_quat((2, 3)), TypeError,
               r"must be an int; got \(2, 3\)"),
        raises("humanlib.rotations.random_quat", "integer dtype", lambda: rot.random_quat(2, dtype=torch.long),
               ValueError, "dtype must be a floating torch.dtype"),
        raises("humanlib.rotations.random_quat", "dtype as a string", lambda: rot.random_quat(2, dtype="float32"),
               ValueError, "dtype must be a floating torch.dtype"),
        raises("humanlib.rotations.random_quat", "seed instead of a generator", lambda: rot.random_quat(2, generator=3),
               TypeError, "generator must be a torch.Generator"),
        returns("humanlib.rotations.random_quat", "zero batch gives an empty batch", lambda: rot.random_quat(0, 2),
                lambda q: q.shape == (0, 2, 4)),
        returns("humanlib.rotations.random_quat", "no shape gives one quaternion", lambda: rot.random_quat(),
                lambda q: q.shape == (4,) and abs(float(q.norm()) - 1) < 1e-6),
        returns("humanlib.rotations.random_quat", "numpy integer sizes are accepted", lambda: rot.random_quat(np.int64(3)),
                lambda q: q.shape == (3, 4)),
    ]
    return cases


CASES = _rotation_cases()

EXEMPT: dict[str, str] = {}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input(case):
    run_case(case)


# --------------------------------------------------------------------------- properties

_shapes = st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple)


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(sorted(_ONE_ARG)), shape=_shapes)
def test_rotations_any_wrong_shape_names_the_argument(name, shape):
    """Any shape whose trailing dims are not the expected ones is a ValueError naming the argument."""
    fn, trailing, arg = _ONE_ARG[name]
    if shape[len(shape) - len(trailing):] == trailing:
        shape = shape + (7,)
    with pytest.raises(ValueError, match=rf"^{arg}: expected \(\.\.\."):
        fn(torch.zeros(shape))


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(sorted(_ONE_ARG)), batch=st.integers(1, 4), where=st.integers(0, 100),
       bad=st.sampled_from([NAN, INF, -INF]))
def test_rotations_one_non_finite_value_anywhere_is_refused(name, batch, where, bad):
    fn, trailing, arg = _ONE_ARG[name]
    x = _valid(trailing, batch)
    x.view(-1)[where % x.numel()] = bad
    with pytest.raises(ValueError, match=rf"^{arg}: .*1 non-finite"):
        fn(x)
