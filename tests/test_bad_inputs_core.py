"""Bad inputs to humanlib.rotations, skeleton, paths, viz, body, bodyplot, check and bodybuild:
every public name, a clear error or a defined result."""

from __future__ import annotations

import re
import tempfile
from functools import cache
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from bad_inputs import case_id, raises, returns, run_case
from bad_inputs import with_env as _env
from hypothesis import given, settings
from hypothesis import strategies as st
from test_body import synthetic_smpl_arrays

from humanlib import body, bodybuild, bodyplot, check, paths, skeleton, viz
from humanlib import rotations as rot

NAN, INF = float("nan"), float("inf")
META = "meta"


def _with(shape, value=0.0, **kw):
    return torch.full(shape, value, **kw)


def _tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="humanlib_bad_inputs_"))


def _file(name: str, content: bytes = b"garbage bytes, not a model") -> Path:
    path = _tmp() / name
    path.write_bytes(content)
    return path


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
        target = f"{fn.__module__}.{fname}"  # where the function lives (humanlib.rotations re-exports them all)
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
        returns("humanlib.quaternions.quat_normalize", "zero quaternion stays zero (documented)",
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
        target = f"{fn.__module__}.{fname}"
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
        raises("humanlib.quaternions.random_quat", "negative batch size", lambda: rot.random_quat(-1), ValueError,
               r"random_quat: batch sizes must be >= 0; got -1"),
        raises("humanlib.quaternions.random_quat", "float batch size", lambda: rot.random_quat(2.5), TypeError,
               r"must be an int; got 2.5"),
        raises("humanlib.quaternions.random_quat", "shape passed as a tuple", lambda: rot.random_quat((2, 3)), TypeError,
               r"must be an int; got \(2, 3\)"),
        raises("humanlib.quaternions.random_quat", "integer dtype", lambda: rot.random_quat(2, dtype=torch.long),
               ValueError, "dtype must be a floating torch.dtype"),
        raises("humanlib.quaternions.random_quat", "dtype as a string", lambda: rot.random_quat(2, dtype="float32"),
               ValueError, "dtype must be a floating torch.dtype"),
        raises("humanlib.quaternions.random_quat", "seed instead of a generator", lambda: rot.random_quat(2, generator=3),
               TypeError, "generator must be a torch.Generator"),
        returns("humanlib.quaternions.random_quat", "zero batch gives an empty batch", lambda: rot.random_quat(0, 2),
                lambda q: q.shape == (0, 2, 4)),
        returns("humanlib.quaternions.random_quat", "no shape gives one quaternion", lambda: rot.random_quat(),
                lambda q: q.shape == (4,) and abs(float(q.norm()) - 1) < 1e-6),
        returns("humanlib.quaternions.random_quat", "numpy integer sizes are accepted", lambda: rot.random_quat(np.int64(3)),
                lambda q: q.shape == (3, 4)),
    ]
    return cases


# --------------------------------------------------------------------------- skeleton, paths, viz


def _skeleton_paths_viz_cases():
    return [
        raises("humanlib.skeleton.joint", "unknown name", lambda: skeleton.joint("left_elbw"), KeyError,
               "unknown SMPL joint 'left_elbw'; known joints: pelvis"),
        raises("humanlib.skeleton.joint", "an index instead of a name", lambda: skeleton.joint(3), TypeError,
               "joint name must be a str"),
        raises("humanlib.skeleton.joint", "unhashable list", lambda: skeleton.joint(["pelvis"]), TypeError,
               "joint name must be a str"),
        raises("humanlib.skeleton.mirror_joint", "index past the last joint", lambda: skeleton.mirror_joint(24),
               IndexError, r"joint index must be in \[0, 24\); got 24"),
        raises("humanlib.skeleton.mirror_joint", "negative index (would silently wrap)",
               lambda: skeleton.mirror_joint(-1), IndexError, "got -1"),
        raises("humanlib.skeleton.mirror_joint", "a name instead of an index", lambda: skeleton.mirror_joint("left_hip"),
               TypeError, r"use mirror_joint\(joint\(name\)\)"),
        raises("humanlib.skeleton.mirror_joint", "float index", lambda: skeleton.mirror_joint(1.0), TypeError,
               "joint index"),
        returns("humanlib.skeleton.mirror_joint", "numpy integer index", lambda: skeleton.mirror_joint(np.int64(1)),
                lambda j: j == 2),
        # paths: the functions read environment variables; the bad input is a bad variable
        raises("humanlib.paths.cache_dir", "HUMANLIB_CACHE_DIR names a file",
               _env(paths.cache_dir, HUMANLIB_CACHE_DIR=str(_file("cache_is_a_file"))), NotADirectoryError,
               r"is a file, not a folder; point HUMANLIB_CACHE_DIR"),
        raises("humanlib.paths.cache_dir", "HUMANLIB_CACHE_DIR below a file",
               _env(paths.cache_dir, HUMANLIB_CACHE_DIR=str(_file("parent_is_a_file") / "cache")),
               (NotADirectoryError, FileExistsError), r"cannot create the cache folder .*HUMANLIB_CACHE_DIR"),
        returns("humanlib.paths.cache_dir", "empty HUMANLIB_CACHE_DIR is unset, not the current folder",
                _env(paths.cache_dir, HUMANLIB_CACHE_DIR="  ", HOME=str(_tmp())),
                lambda p: p.name == "humanlib" and p.parent.name == ".cache" and p.is_dir()),
        returns("humanlib.paths.user_body_model", "blank variable means unset",
                _env(paths.user_body_model, HUMANLIB_BODY_MODEL=" "), lambda p: p is None),
        returns("humanlib.paths.user_body_model", "a missing file is returned for load_body_model to report",
                _env(paths.user_body_model, HUMANLIB_BODY_MODEL="~/nowhere/SMPL.pkl"),
                lambda p: p == Path("~/nowhere/SMPL.pkl").expanduser()),
        returns("humanlib.paths.user_amass_dir", "blank variable means unset",
                _env(paths.user_amass_dir, HUMANLIB_AMASS_DIR="\t"), lambda p: p is None),
        returns("humanlib.paths.raw_data_dir", "blank variable falls back to the checkout's shared/data or None",
                _env(paths.raw_data_dir, HUMANLIB_RAW_DATA=""),
                lambda p: p is None or (p.is_dir() and p.name == "data")),
        raises("humanlib.paths.asset", "missing asset", lambda: paths.asset("no_such_asset.npz"), FileNotFoundError,
               r"'no_such_asset.npz' is missing .*pip install -e"),
        raises("humanlib.paths.asset", "empty name (would return the folder)", lambda: paths.asset(""), ValueError,
               "non-empty path"),
        raises("humanlib.paths.asset", "climbing out of the assets", lambda: paths.asset("../body.py"), ValueError,
               r"no '\.\.'"),
        raises("humanlib.paths.asset", "absolute path", lambda: paths.asset("/etc/hostname"), ValueError,
               "non-empty path inside"),
        raises("humanlib.paths.asset", "a folder", lambda: paths.asset("priors"), FileNotFoundError,
               "is a folder"),
        raises("humanlib.paths.asset", "not a string", lambda: paths.asset(3), TypeError, "asset name must be a str"),
        returns("humanlib.viz.in_book_build", "only the value 1 means a book build",
                _env(viz.in_book_build, HUMANLIB_BOOK_BUILD="true"), lambda r: r is False),
        returns("humanlib.viz.in_book_build", "unset", _env(viz.in_book_build, HUMANLIB_BOOK_BUILD=None),
                lambda r: r is False),
        returns("humanlib.viz.configure_plotly", "outside a book build plotly's default renderer is kept",
                _env(lambda: (viz.configure_plotly(), viz.pio.renderers.default)[1], HUMANLIB_BOOK_BUILD="0"),
                lambda r: r != viz.BOOK_RENDERER or viz.in_book_build()),
        returns("humanlib.viz.configure", "outside a book build plotly's default renderer is kept",
                _env(lambda: (viz.configure(), viz.pio.renderers.default)[1], HUMANLIB_BOOK_BUILD="0"),
                lambda r: r != viz.BOOK_RENDERER or viz.in_book_build()),
        returns("humanlib.viz.configure_matplotlib", "outside a book build it changes nothing",
                _env(lambda: (viz.configure_matplotlib(), matplotlib.get_backend())[1], HUMANLIB_BOOK_BUILD="0"),
                lambda r: r == matplotlib.get_backend()),
        returns("humanlib.viz.describe_figure", "an empty figure is described by what it lacks",
                lambda: viz.describe_figure(plt.figure()), lambda r: r == "[no title]"),
        returns("humanlib.viz.describe_figure", "an unlabelled panel names each missing label",
                lambda: viz.describe_figure(_unlabelled_plot()), lambda r: "[no x label]" in r and "[no y label]" in r),
    ]


def _unlabelled_plot():
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    return fig


# --------------------------------------------------------------------------- body

V_SMALL, K_SMALL = 12, 10


@cache
def _arrays():
    return synthetic_smpl_arrays(num_vertices=V_SMALL, num_shape=K_SMALL)


@cache
def _model() -> body.BodyModel:
    return body.BodyModel(_arrays(), num_betas=4, name="tiny model")


def _arrays_with(**changes):
    arrays = dict(_arrays())
    for key, value in changes.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    return arrays


def _model_file(suffix=".npz", **changes) -> Path:
    path = _tmp() / f"model{suffix}"
    arrays = _arrays_with(**changes)
    if suffix == ".npz":
        np.savez(path, **arrays)
    else:
        import pickle
        path.write_bytes(pickle.dumps(arrays))
    return path


def _eye(*batch):
    return torch.eye(3).expand(*batch, 3, 3).clone()


def _is_nan(x):
    return bool(torch.isnan(x).any())


def _body_term_cases():
    B = "humanlib.body."
    dirs, J_reg, posedirs, weights = (torch.randn(V_SMALL, 3, 4), torch.rand(24, V_SMALL),
                                      torch.randn(V_SMALL, 3, 207), torch.rand(V_SMALL, 24))
    parents = skeleton.PARENTS
    eye4 = torch.eye(4).expand(2, 24, 4, 4)
    return [
        raises("humanlib.body_terms.shape_blend_shapes", "K of betas and shapedirs differ",
               lambda: body.shape_blend_shapes(torch.zeros(2, 5), dirs), ValueError,
               r"shapedirs must have shape \(B, 3, 5\); got \(12, 3, 4\)\. K = 5 from betas"),
        raises("humanlib.body_terms.shape_blend_shapes", "betas without a batch dim",
               lambda: body.shape_blend_shapes(torch.zeros(4), dirs), ValueError, r"betas must have shape \(B, N\)"),
        raises("humanlib.body_terms.shape_blend_shapes", "integer betas", lambda: body.shape_blend_shapes(torch.zeros(2, 4, dtype=torch.long), dirs),
               ValueError, "betas must be a floating-point tensor"),
        raises("humanlib.body_terms.shape_blend_shapes", "numpy betas", lambda: body.shape_blend_shapes(np.zeros((2, 4)), dirs),
               TypeError, r"betas must be a torch.Tensor.*torch.as_tensor"),
        raises("humanlib.body_terms.shape_blend_shapes", "float64 betas, float32 basis",
               lambda: body.shape_blend_shapes(torch.zeros(2, 4, dtype=torch.float64), dirs), ValueError,
               "shapedirs has dtype torch.float32 but betas has torch.float64"),
        raises("humanlib.body_terms.shape_blend_shapes", "meta betas, cpu basis",
               lambda: body.shape_blend_shapes(torch.zeros(2, 4, device=META), dirs), ValueError,
               "shapedirs is on cpu but betas is on meta"),
        returns("humanlib.body_terms.shape_blend_shapes", "empty batch", lambda: body.shape_blend_shapes(torch.zeros(0, 4), dirs),
                lambda y: y.shape == (0, V_SMALL, 3)),
        returns("humanlib.body_terms.shape_blend_shapes", "NaN propagates (terms do not sync; BodyModel checks)",
                lambda: body.shape_blend_shapes(_nan_at((1, 4)), dirs), _is_nan),
        raises("humanlib.body_terms.regress_joints", "V of vertices and regressor differ",
               lambda: body.regress_joints(torch.zeros(2, V_SMALL + 1, 3), J_reg), ValueError,
               r"J_regressor must have shape \(B, 13\); got \(24, 12\)"),
        raises("humanlib.body_terms.regress_joints", "2D vertices", lambda: body.regress_joints(torch.zeros(2, V_SMALL), J_reg),
               ValueError, r"vertices must have shape \(B, N, 3\)"),
        raises("humanlib.body_terms.regress_joints", "float64 regressor", lambda: body.regress_joints(torch.zeros(2, V_SMALL, 3), J_reg.double()),
               ValueError, "J_regressor has dtype torch.float64 but vertices has torch.float32"),
        raises("humanlib.body_terms.regress_joints", "list vertices", lambda: body.regress_joints([[0.0, 0.0, 0.0]], J_reg),
               TypeError, "vertices must be a torch.Tensor"),
        returns("humanlib.body_terms.regress_joints", "empty batch", lambda: body.regress_joints(torch.zeros(0, V_SMALL, 3), J_reg),
                lambda y: y.shape == (0, 24, 3)),
        raises("humanlib.body_terms.pose_feature", "axis-angle instead of matrices",
               lambda: body.pose_feature(torch.zeros(2, 24, 3)), ValueError,
               r"rotmats must have shape \(B, N, 3, 3\); got \(2, 24, 3\)\. Axis-angle poses go through axis_angle_to_rotmat"),
        raises("humanlib.body_terms.pose_feature", "no joint", lambda: body.pose_feature(torch.zeros(2, 0, 3, 3)), ValueError,
               "rotmats has no joint"),
        raises("humanlib.body_terms.pose_feature", "integer matrices", lambda: body.pose_feature(torch.zeros(2, 24, 3, 3, dtype=torch.int32)),
               ValueError, "rotmats must be a floating-point"),
        returns("humanlib.body_terms.pose_feature", "empty batch", lambda: body.pose_feature(torch.zeros(0, 24, 3, 3)),
                lambda y: y.shape == (0, 207)),
        returns("humanlib.body_terms.pose_feature", "meta matrices give a meta feature", lambda: body.pose_feature(torch.zeros(2, 24, 3, 3, device=META)),
                lambda y: y.device.type == META and y.shape == (2, 207)),
        raises("humanlib.body_terms.pose_blend_shapes", "feature of another joint count",
               lambda: body.pose_blend_shapes(torch.zeros(2, 9 * 54), posedirs), ValueError,
               r"posedirs must have shape \(B, 3, 486\); got \(12, 3, 207\)"),
        raises("humanlib.body_terms.pose_blend_shapes", "unflattened feature", lambda: body.pose_blend_shapes(torch.zeros(2, 23, 9), posedirs),
               ValueError, r"feature must have shape \(B, N\).*pose_feature"),
        raises("humanlib.body_terms.pose_blend_shapes", "meta feature, cpu basis",
               lambda: body.pose_blend_shapes(torch.zeros(2, 207, device=META), posedirs), ValueError,
               "posedirs is on cpu but feature is on meta"),
        returns("humanlib.body_terms.pose_blend_shapes", "empty batch", lambda: body.pose_blend_shapes(torch.zeros(0, 207), posedirs),
                lambda y: y.shape == (0, V_SMALL, 3)),
        raises("humanlib.body_terms.forward_kinematics", "rest joints of another joint count",
               lambda: body.forward_kinematics(_eye(2, 24), torch.zeros(2, 22, 3), parents), ValueError,
               r"rest_joints must have shape \(2, 24, 3\); got \(2, 22, 3\)"),
        raises("humanlib.body_terms.forward_kinematics", "parents of another length",
               lambda: body.forward_kinematics(_eye(2, 24), torch.zeros(2, 24, 3), parents[:22]), ValueError,
               "parents has 22 entries but rotmats has 24 joints"),
        raises("humanlib.body_terms.forward_kinematics", "a child listed before its parent",
               lambda: body.forward_kinematics(_eye(1, 3), torch.zeros(1, 3, 3), (-1, 2, 0)), ValueError,
               r"parents\[1\] is 2.*parents before children"),
        raises("humanlib.body_terms.forward_kinematics", "root with a parent", lambda: body.forward_kinematics(_eye(1, 2), torch.zeros(1, 2, 3), (0, 0)),
               ValueError, r"parents\[0\] is 0: the root"),
        raises("humanlib.body_terms.forward_kinematics", "parents as None", lambda: body.forward_kinematics(_eye(1, 2), torch.zeros(1, 2, 3), None),
               TypeError, "parents must be a sequence"),
        raises("humanlib.body_terms.forward_kinematics", "float parent", lambda: body.forward_kinematics(_eye(1, 2), torch.zeros(1, 2, 3), (-1, 0.0)),
               TypeError, r"parents\[1\] must be an int"),
        raises("humanlib.body_terms.forward_kinematics", "no joint", lambda: body.forward_kinematics(torch.zeros(1, 0, 3, 3), torch.zeros(1, 0, 3), ()),
               ValueError, "rotmats has no joint"),
        raises("humanlib.body_terms.forward_kinematics", "float64 rotations, float32 joints",
               lambda: body.forward_kinematics(_eye(2, 24).double(), torch.zeros(2, 24, 3), parents), ValueError,
               "rest_joints has dtype torch.float32 but rotmats has torch.float64"),
        raises("humanlib.body_terms.forward_kinematics", "meta joints", lambda: body.forward_kinematics(_eye(2, 24), torch.zeros(2, 24, 3, device=META), parents),
               ValueError, "rest_joints is on meta but rotmats is on cpu"),
        returns("humanlib.body_terms.forward_kinematics", "empty batch", lambda: body.forward_kinematics(_eye(0, 24), torch.zeros(0, 24, 3), parents),
                lambda out: out[0].shape == (0, 24, 3) and out[1].shape == (0, 24, 4, 4)),
        returns("humanlib.body_terms.forward_kinematics", "numpy parents are accepted",
                lambda: body.forward_kinematics(_eye(1, 24), torch.zeros(1, 24, 3), np.array(parents)),
                lambda out: out[0].shape == (1, 24, 3)),
        raises("humanlib.body_terms.linear_blend_skinning", "weights of another vertex count",
               lambda: body.linear_blend_skinning(torch.zeros(2, V_SMALL + 1, 3), weights, eye4), ValueError,
               r"weights must have shape \(13, 24\); got \(12, 24\)"),
        raises("humanlib.body_terms.linear_blend_skinning", "3x4 transforms", lambda: body.linear_blend_skinning(torch.zeros(2, V_SMALL, 3), weights, eye4[..., :3, :]),
               ValueError, r"transforms must have shape \(2, B, 4, 4\)"),
        raises("humanlib.body_terms.linear_blend_skinning", "batch sizes differ", lambda: body.linear_blend_skinning(torch.zeros(3, V_SMALL, 3), weights, eye4),
               ValueError, r"transforms must have shape \(3, B, 4, 4\); got \(2, 24, 4, 4\)\. B comes from vertices"),
        raises("humanlib.body_terms.linear_blend_skinning", "meta weights", lambda: body.linear_blend_skinning(torch.zeros(2, V_SMALL, 3), weights.to(META), eye4),
               ValueError, "weights is on meta but vertices is on cpu"),
        returns("humanlib.body_terms.linear_blend_skinning", "empty batch",
                lambda: body.linear_blend_skinning(torch.zeros(0, V_SMALL, 3), weights, torch.zeros(0, 24, 4, 4)),
                lambda y: y.shape == (0, V_SMALL, 3)),
    ]


def _body_model_cases():
    B = "humanlib.body.BodyModel"
    m = _model
    F = B + ".forward"
    return [
        raises(B, "arrays as a list", lambda: body.BodyModel([1, 2]), TypeError, "arrays must be a dict"),
        raises(B, "missing key", lambda: body.BodyModel(_arrays_with(posedirs=None)), ValueError, r"missing keys \['posedirs'\]"),
        raises(B, "NaN template", lambda: body.BodyModel(_arrays_with(v_template=np.full((V_SMALL, 3), np.nan))),
               ValueError, "v_template contains 36 NaN or infinite"),
        raises(B, "inf in the used shape basis", lambda: body.BodyModel(
            _arrays_with(shapedirs=np.where(np.arange(K_SMALL) == 0, np.inf, _arrays()["shapedirs"]))),
            ValueError, "shapedirs contains 36 NaN or infinite"),
        returns(B, "inf in an unused shape component is ignored", lambda: body.BodyModel(
            _arrays_with(shapedirs=np.where(np.arange(K_SMALL) == K_SMALL - 1, np.inf, _arrays()["shapedirs"])), num_betas=4),
            lambda model: model.shapedirs.shape == (V_SMALL, 3, 4)),
        raises(B, "text arrays", lambda: body.BodyModel(_arrays_with(weights=np.full((V_SMALL, 24), "w"))), ValueError,
               "weights must hold numbers; got dtype <U1"),
        raises(B, "faces index missing vertices", lambda: body.BodyModel(_arrays_with(f=np.array([[0, 1, 99]]))), ValueError,
               r"f \(faces\) indexes vertices in \[0, 99\] but the mesh has 12 vertices"),
        raises(B, "float faces", lambda: body.BodyModel(_arrays_with(f=np.zeros((2, 3)))), ValueError, "must hold vertex indices"),
        raises(B, "num_betas 0", lambda: body.BodyModel(_arrays(), num_betas=0), ValueError, "num_betas must be"),
        raises(B, "num_betas above the file's", lambda: body.BodyModel(_arrays(), num_betas=11), ValueError,
               r"num_betas must be in \[1, 10\]"),
        raises(B, "num_betas float", lambda: body.BodyModel(_arrays(), num_betas=4.0), TypeError, "num_betas must be an integer"),
        raises(B, "wrong weights shape", lambda: body.BodyModel(_arrays_with(weights=np.ones((V_SMALL, 10)))), ValueError,
               "weights must have shape"),
        raises(F, "betas of another K", lambda: m()(torch.zeros(2, 5)), ValueError, r"betas must have shape \(2, 4\), got \(2, 5\)"),
        raises(F, "pose of another joint count", lambda: m()(pose=torch.zeros(1, 22, 3)), ValueError,
               r"pose must have shape \(1, 24, 3\), got \(1, 22, 3\) \(tiny model has J = 24 joints\)"),
        raises(F, "pose flattened to (B, 72)", lambda: m()(pose=torch.zeros(2, 72)), ValueError, r"pose must have shape \(2, 24, 3\)"),
        raises(F, "batch sizes differ", lambda: m()(torch.zeros(2, 4), torch.zeros(3, 24, 3)), ValueError,
               r"got \(3, 24, 3\) \(batch size 2 taken from betas\)"),
        raises(F, "transl without a batch dim", lambda: m()(pose=torch.zeros(1, 24, 3), transl=torch.zeros(3)), ValueError,
               r"transl must have shape \(1, 3\), got \(3,\) \(batch size 1 taken from pose\)"),
        raises(F, "a 0-dim tensor", lambda: m()(torch.tensor(0.0)), ValueError, r"betas must have shape \(1, 4\), got \(\)"),
        raises(F, "numpy betas", lambda: m()(np.zeros((2, 4))), TypeError, r"betas must be a torch.Tensor.*torch.as_tensor"),
        raises(F, "list pose", lambda: m()(pose=[[0.0, 0.0, 0.0]] * 24), TypeError, "pose must be a torch.Tensor.*list"),
        raises(F, "integer pose", lambda: m()(pose=torch.zeros(1, 24, 3, dtype=torch.long)), ValueError,
               "pose has dtype torch.int64 but the model is torch.float32"),
        raises(F, "float64 betas, float32 model", lambda: m()(torch.zeros(1, 4, dtype=torch.float64)), ValueError,
               r"model.to\(dtype\)"),
        raises(F, "meta pose, cpu model (device before values)", lambda: m()(pose=torch.zeros(2, 24, 3, device=META)),
               ValueError, "pose is on meta but the model is on cpu"),
        raises(F, "meta transl", lambda: m()(torch.zeros(2, 4), transl=torch.zeros(2, 3, device=META)), ValueError,
               "transl is on meta but the model is on cpu"),
        raises(F, "NaN pose", lambda: m()(pose=_nan_at((1, 24, 3))), ValueError, r"pose contains 1 non-finite"),
        raises(F, "inf transl", lambda: m()(transl=_with((1, 3), INF)), ValueError, "transl contains 3 non-finite"),
        raises(F, "NaN rotation matrices", lambda: m()(pose_rotmats=_nan_at((1, 24, 3, 3))), ValueError,
               "pose_rotmats contains 1 non-finite"),
        raises(F, "both pose and pose_rotmats", lambda: m()(pose=torch.zeros(1, 24, 3), pose_rotmats=_eye(1, 24)),
               ValueError, "either pose .* or pose_rotmats, not both"),
        raises(F, "rotation matrices of the wrong shape", lambda: m()(pose_rotmats=_eye(1, 23)), ValueError,
               r"pose_rotmats must have shape \(1, 24, 3, 3\)"),
        returns(F, "empty batch gives empty outputs", lambda: m()(torch.zeros(0, 4)),
                lambda out: out.vertices.shape == (0, V_SMALL, 3) and out.joints.shape == (0, 24, 3)),
        returns(F, "no input: the rest pose of the mean shape", lambda: m()(),
                lambda out: torch.allclose(out.vertices[0], _model().v_template)),
    ]


def _body_file_cases():
    B = "humanlib.body."
    return [
        raises("humanlib.body_files.read_model_file", "missing file", lambda: body.read_model_file(_tmp() / "SMPL_NEUTRAL.pkl"),
               FileNotFoundError, r"SMPL_NEUTRAL.pkl does not exist.*smpl.is.tue.mpg.de.*HUMANLIB_BODY_MODEL"),
        raises("humanlib.body_files.read_model_file", "a directory", lambda: body.read_model_file(_tmp()), FileNotFoundError,
               "humanlib_bad_inputs_"),
        raises("humanlib.body_files.read_model_file", "garbage pickle", lambda: body.read_model_file(_file("model.pkl")), ValueError,
               "is not a readable pickle"),
        raises("humanlib.body_files.read_model_file", "empty pickle", lambda: body.read_model_file(_file("model.pkl", b"")), ValueError,
               "is not a readable pickle"),
        raises("humanlib.body_files.read_model_file", "chumpy pickle", lambda: body.read_model_file(_file("model.pkl", b"\x80\x02cchumpy.ch\nCh\nq\x00.")),
               ValueError, "chumpy objects.*np.array"),
        raises("humanlib.body_files.read_model_file", "an .npz without posedirs", lambda: body.read_model_file(_model_file(posedirs=None)),
               ValueError, "lacks the keys posedirs"),
        raises("humanlib.body_files.read_model_file", "a .pkl with a wrong weights shape",
               lambda: body.read_model_file(_model_file(".pkl", weights=np.ones((V_SMALL, 3)))), ValueError,
               "weights must have shape"),
        raises("humanlib.body_files.read_model_file", "unknown suffix", lambda: body.read_model_file(_file("model.obj", b"v 0 0 0\n")),
               ValueError, r"unknown model file type '.obj'; expected .pkl or .npz"),
        raises("humanlib.body_files.validate_model_arrays", "missing keys", lambda: body.validate_model_arrays({"v_template": np.zeros((3, 3))}),
               ValueError, r"missing keys \['shapedirs'"),
        raises("humanlib.body_files.validate_model_arrays", "(3, V) template", lambda: body.validate_model_arrays(_arrays_with(v_template=np.zeros((3, V_SMALL)))),
               ValueError, r"v_template must be \(V, 3\), got \(3, 12\)"),
        raises("humanlib.body_files.validate_model_arrays", "regressor transposed",
               lambda: body.validate_model_arrays(_arrays_with(J_regressor=np.zeros((V_SMALL, 24)))), ValueError,
               r"J_regressor must have shape \(J=24, V=12\), got \(12, 24\)"),
        raises("humanlib.body_files.validate_model_arrays", "a child before its parent",
               lambda: body.validate_model_arrays(_arrays_with(kintree_table=np.stack([np.r_[-1, 2, np.zeros(22, int)], np.arange(24)]))),
               ValueError, "parent of joint 1 is 2; parents must precede children"),
        raises("humanlib.body_files.expand_open_model", "compact arrays of another model (missing keys)",
               lambda: body.expand_open_model(_arrays()), KeyError, "posedirs_support"),
        raises(B + "load_body_model", "missing file", lambda: body.load_body_model(_tmp() / "SMPL_NEUTRAL.pkl"),
               FileNotFoundError, "smpl.is.tue.mpg.de"),
        raises(B + "load_body_model", "HUMANLIB_BODY_MODEL names a missing file, no silent fallback",
               _env(body.load_body_model, HUMANLIB_BODY_MODEL=str(_tmp() / "gone.npz")), FileNotFoundError,
               "HUMANLIB_BODY_MODEL"),
        raises(B + "load_body_model", "num_betas above the file's", lambda: body.load_body_model(_model_file(), num_betas=11),
               ValueError, r"num_betas must be in \[1, 10\]"),
        raises(B + "load_body_model", "garbage pickle", lambda: body.load_body_model(_file("SMPL.pkl")), ValueError,
               "is not a readable pickle"),
        raises("humanlib.body_files.open_body_model_file", "HUMANLIB_CACHE_DIR names a file",
               _env(body.open_body_model_file, HUMANLIB_CACHE_DIR=str(_file("cache_file"))), NotADirectoryError,
               "HUMANLIB_CACHE_DIR"),
        raises(B + "smplx_model", "missing file", lambda: body.smplx_model(_tmp() / "SMPL.pkl"), FileNotFoundError,
               "smpl.is.tue.mpg.de"),
        raises(B + "smplx_model", "a directory", lambda: body.smplx_model(_tmp()), FileNotFoundError, "is a directory"),
        raises(B + "smplx_model", "path as a number", lambda: body.smplx_model(3), TypeError, "path must be a str or Path"),
        raises(B + "smplx_model", "num_betas above the file's", lambda: body.smplx_model(_model_file(), num_betas=11),
               ValueError, r"num_betas must be in \[1, 10\]"),
        raises(B + "smplx_model", "num_betas 0", lambda: body.smplx_model(_model_file(), num_betas=0), ValueError,
               "num_betas must be a finite integer > 0"),
        raises(B + "smplx_model", "vertex_ids as a list", lambda: body.smplx_model(_model_file(), vertex_ids=[1, 2]),
               TypeError, "vertex_ids must be a dict"),
        raises(B + "smplx_model", "wrong layout", lambda: body.smplx_model(_model_file(posedirs=None)), ValueError,
               "lacks the keys posedirs"),
    ]


# --------------------------------------------------------------------------- bodyplot


def _grid():
    """A 4 x 4 grid mesh of 16 vertices and 18 triangles."""
    xs, ys = np.meshgrid(np.arange(4.0), np.arange(4.0))
    v = np.stack([xs.ravel(), ys.ravel(), np.zeros(16)], 1)
    idx = np.arange(16).reshape(4, 4)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel(), idx[1:, :-1].ravel(), idx[1:, 1:].ravel()
    return v, np.concatenate([np.stack([a, b, d], 1), np.stack([a, d, c], 1)])


@cache
def _dec():
    v, f = _grid()
    return bodyplot.decimate(v, f, cell=0.5)


def _scene():
    fig = go.Figure()
    fig.add_trace(go.Scatter3d(x=[0], y=[0], z=[0]))
    return fig


def _bodyplot_cases():
    P = "humanlib.bodyplot."
    v, f = _grid()
    joints = torch.zeros(24, 3)
    trace = bodyplot.skeleton_trace(joints)
    return [
        raises(P + "decimate", "a batch of meshes", lambda: bodyplot.decimate(v[None], f), ValueError,
               r"vertices must have shape \(B, 3\); got \(1, 16, 3\)\. Give one mesh"),
        raises(P + "decimate", "no vertex", lambda: bodyplot.decimate(np.zeros((0, 3)), f), ValueError, "vertices is empty"),
        raises(P + "decimate", "NaN vertex", lambda: bodyplot.decimate(np.where(np.arange(3) == 0, np.nan, v), f), ValueError,
               "vertices contains 16 NaN"),
        raises(P + "decimate", "faces index missing vertices", lambda: bodyplot.decimate(v, f + 10), ValueError,
               r"faces index vertices in \[10, 25\] but there are 16 vertices"),
        raises(P + "decimate", "float faces", lambda: bodyplot.decimate(v, f.astype(float)), ValueError, "integer vertex indices"),
        raises(P + "decimate", "faces (3, F)", lambda: bodyplot.decimate(v, f.T), ValueError, r"faces must have shape \(F, 3\)"),
        raises(P + "decimate", "zero cell", lambda: bodyplot.decimate(v, f, cell=0.0), ValueError, "cell must be a finite number > 0"),
        raises(P + "decimate", "cell as a string", lambda: bodyplot.decimate(v, f, cell="2cm"), TypeError, "cell must be a number"),
        raises(P + "decimate", "meta tensor", lambda: bodyplot.decimate(torch.zeros(16, 3, device=META), f), ValueError,
               "vertices is a meta tensor"),
        raises(P + "decimate", "a dict", lambda: bodyplot.decimate({"v": v}, f), TypeError, "vertices must be a tensor or array"),
        returns(P + "decimate", "tensors work like arrays", lambda: bodyplot.decimate(torch.as_tensor(v), torch.as_tensor(f), 0.5),
                lambda d: len(d.vertex_index) == 16 and len(d.faces) == 18),
        returns(P + "decimate", "a huge cell collapses every face: an empty, valid face list",
                lambda: bodyplot.decimate(v, f, 100.0), lambda d: len(d.vertex_index) == 1 and d.faces.shape == (0, 3)),
        raises(P + "mesh_trace", "decimation of a bigger mesh", lambda: bodyplot.mesh_trace(v[:8], _dec()), ValueError,
               "vertices has 8 vertices but the decimation picks vertex 15: it was made from another mesh"),
        raises(P + "frame_scene", "no point", lambda: bodyplot.frame_scene(_scene(), np.zeros((0, 3))), ValueError,
               "points is empty"),
        raises(P + "frame_scene", "NaN points", lambda: bodyplot.frame_scene(_scene(), np.full((2, 3), np.nan)), ValueError,
               "points contains 6 NaN or infinite"),
        raises(P + "frame_scene", "camera direction of length zero",
               lambda: bodyplot.frame_scene(_scene(), np.zeros((2, 3)), eye=(0, 0, 0)), ValueError, "eye must be a non-zero"),
        raises(P + "frame_scene", "negative pad", lambda: bodyplot.frame_scene(_scene(), np.zeros((2, 3)), pad=-1), ValueError,
               "pad must be a finite number >= 0"),
        raises(P + "mesh_trace", "faces instead of a decimation", lambda: bodyplot.mesh_trace(v, f), TypeError,
               "decimation must be a Decimation"),
        raises(P + "mesh_trace", "a batch of meshes", lambda: bodyplot.mesh_trace(torch.zeros(2, 16, 3), _dec()), ValueError,
               r"vertices must have shape \(B, 3\); got \(2, 16, 3\)"),
        raises(P + "mesh_trace", "colour per kept vertex, not per full-mesh vertex",
               lambda: bodyplot.mesh_trace(v, _dec(), color=np.zeros(5)), ValueError, r"color must have shape \(16,\); got \(5,\)"),
        raises(P + "mesh_trace", "NaN colour", lambda: bodyplot.mesh_trace(v, _dec(), color=np.full(16, np.nan)), ValueError,
               "color contains 16 NaN"),
        raises(P + "mesh_trace", "opacity 2", lambda: bodyplot.mesh_trace(v, _dec(), opacity=2), ValueError,
               r"opacity must be a number in \[0, 1\]"),
        raises(P + "mesh_trace", "inf vertex", lambda: bodyplot.mesh_trace(np.full((16, 3), np.inf), _dec()), ValueError,
               "NaN or infinite"),
        returns(P + "mesh_trace", "a mesh whose faces all collapsed draws no triangle",
                lambda: bodyplot.mesh_trace(v, bodyplot.decimate(v, f, 100.0)), lambda t: len(t.i) == 0),
        raises(P + "bone_polyline", "fewer joints than parents", lambda: bodyplot.bone_polyline(torch.zeros(22, 3)), ValueError,
               "joints has 22 rows but parents names 24 joints"),
        raises(P + "bone_polyline", "flattened joints", lambda: bodyplot.bone_polyline(torch.zeros(72)), ValueError,
               r"joints must have shape \(B, 3\); got \(72,\)"),
        raises(P + "bone_polyline", "a batch of skeletons", lambda: bodyplot.bone_polyline(torch.zeros(2, 24, 3)), ValueError,
               r"Give one skeleton, not a batch"),
        raises(P + "bone_polyline", "parent out of range", lambda: bodyplot.bone_polyline(torch.zeros(3, 3), (-1, 0, 5)),
               ValueError, r"parents\[2\] is 5"),
        raises(P + "bone_polyline", "offset of 2 numbers", lambda: bodyplot.bone_polyline(joints, offset=(1.0, 0.0)), ValueError,
               r"offset must have shape \(3,\)"),
        raises(P + "bone_polyline", "NaN joint", lambda: bodyplot.bone_polyline(_nan_at((24, 3))), ValueError, "joints contains 1 NaN"),
        returns(P + "bone_polyline", "extra rows (keypoints after the 24 joints) are ignored",
                lambda: bodyplot.bone_polyline(torch.zeros(45, 3)), lambda xyz: len(xyz[0]) == 3 * 23),
        raises(P + "skeleton_trace", "fewer joints than parents", lambda: bodyplot.skeleton_trace(torch.zeros(10, 3)), ValueError,
               "joints has 10 rows"),
        raises(P + "skeleton_trace", "parents as an int", lambda: bodyplot.skeleton_trace(joints, 24), TypeError,
               "parents must be a sequence"),
        raises(P + "joint_marker_trace", "labels of another length", lambda: bodyplot.joint_marker_trace(joints, labels=["a"]),
               ValueError, "labels has 1 entries for 24 joints"),
        raises(P + "joint_marker_trace", "one string as labels", lambda: bodyplot.joint_marker_trace(joints, labels="pelvis"),
               TypeError, "labels must be a sequence of 24 strings"),
        raises(P + "joint_marker_trace", "(3, J) joints", lambda: bodyplot.joint_marker_trace(joints.T), ValueError,
               r"joints must have shape \(B, 3\); got \(3, 24\)"),
        returns(P + "joint_marker_trace", "no joint: an empty trace", lambda: bodyplot.joint_marker_trace(np.zeros((0, 3))),
                lambda t: len(t.x) == 0),
        raises(P + "body_figure", "a figure instead of traces", lambda: bodyplot.body_figure(bodyplot.body_figure([trace])),
               TypeError, "traces must be a list of plotly traces"),
        raises(P + "body_figure", "an array among the traces", lambda: bodyplot.body_figure([trace, v]), TypeError,
               r"traces\[1\] must be a plotly trace"),
        raises(P + "body_figure", "negative height", lambda: bodyplot.body_figure([trace], height=-5), ValueError,
               "height must be a finite number > 0"),
        raises(P + "body_figure", "eye of 2 numbers", lambda: bodyplot.body_figure([trace], eye=(0.0, 1.0)), ValueError,
               r"eye must have shape \(3,\)"),
        returns(P + "body_figure", "one trace alone is accepted", lambda: bodyplot.body_figure(trace), lambda fig: len(fig.data) == 1),
        raises(P + "slider_figure", "no step", lambda: bodyplot.slider_figure([], _dec(), "t", "x"), ValueError, "steps is empty"),
        raises(P + "slider_figure", "vertices without labels", lambda: bodyplot.slider_figure([v, v], _dec(), "t", "x"), TypeError,
               r"steps must be a list of \(label, \(V, 3\) vertices\) pairs"),
        raises(P + "slider_figure", "steps of different meshes", lambda: bodyplot.slider_figure([("a", v), ("b", v[:8])], _dec(), "t", "x"),
               ValueError, r"steps\[1\] vertices have shape \(8, 3\) but steps\[0\] has \(16, 3\)"),
        raises(P + "slider_figure", "decimation of another mesh", lambda: bodyplot.slider_figure([("a", v[:8])], _dec(), "t", "x"),
               ValueError, "made from another mesh"),
        raises(P + "slider_figure", "NaN in a step", lambda: bodyplot.slider_figure([("a", v), ("b", np.full((16, 3), np.nan))], _dec(), "t", "x"),
               ValueError, r"steps\[1\] vertices contains 48 NaN"),
        raises(P + "slider_figure", "label not a string", lambda: bodyplot.slider_figure([("a", v)], _dec(), "t", 3), TypeError,
               "label must be a str"),
        raises(P + "slider_figure", "extra trace not a trace", lambda: bodyplot.slider_figure([("a", v)], _dec(), "t", "x", extra_traces=[v]),
               TypeError, r"extra_traces\[0\] must be a plotly trace"),
    ]


# --------------------------------------------------------------------------- check


def _problem(pattern):
    """A CheckReport that failed with one problem matching ``pattern`` (the documented contract: no exception)."""
    return lambda report: (not report.ok and len(report.problems) == 1 and re.search(pattern, report.problems[0]) is not None)


def _npz_bytes(**arrays) -> bytes:
    import io
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _amass_dir(*files: tuple[str, bytes]) -> Path:
    root = _tmp()
    for name, content in files:
        (root / "CMU" / "01").mkdir(parents=True, exist_ok=True)
        (root / "CMU" / "01" / name).write_bytes(content)
    return root


def _check_cases():
    C = "humanlib.check."
    good_amass = _npz_bytes(poses=np.zeros((4, 156)), trans=np.zeros((4, 3)), betas=np.zeros(16),
                            gender=np.array("neutral"), mocap_framerate=np.array(120.0))
    return [
        returns(C + "check_body_model", "missing file", lambda: check.check_body_model(_tmp() / "SMPL_NEUTRAL.pkl"),
                _problem(r"does not exist.*smpl.is.tue.mpg.de")),
        returns(C + "check_body_model", "a directory", lambda: check.check_body_model(_tmp()), _problem("is a directory")),
        returns(C + "check_body_model", "truncated .npz", lambda: check.check_body_model(_file("m.npz", _npz_bytes(a=np.zeros(9))[:40])),
                _problem(r"cannot be read .*corrupt or truncated|not a readable .npz file \(truncated or corrupt")),
        returns(C + "check_body_model", "empty .npz", lambda: check.check_body_model(_file("m.npz", b"")),
                _problem(r"cannot be read|not a readable")),
        returns(C + "check_body_model", "garbage .npz", lambda: check.check_body_model(_file("m.npz")), _problem("body model")),
        returns(C + "check_body_model", "garbage .pkl", lambda: check.check_body_model(_file("m.pkl")),
                _problem("is not a readable pickle")),
        returns(C + "check_body_model", "chumpy .pkl", lambda: check.check_body_model(_file("m.pkl", b"\x80\x02cchumpy.ch\nCh\nq\x00.")),
                _problem("chumpy")),
        returns(C + "check_body_model", "no posedirs", lambda: check.check_body_model(_model_file(posedirs=None)),
                _problem("posedirs")),
        returns(C + "check_body_model", "NaN template", lambda: check.check_body_model(
            _model_file(v_template=np.full((V_SMALL, 3), np.nan))), _problem("v_template contains 36 NaN")),
        returns(C + "check_body_model", "faces beyond the mesh", lambda: check.check_body_model(
            _model_file(f=np.array([[0, 1, 500]]))), _problem(r"f \(faces\) indexes vertices")),
        returns(C + "check_body_model", "integer template", lambda: check.check_body_model(
            _model_file(v_template=np.zeros((V_SMALL, 3), np.int64))), _problem("not floating point")),
        raises(C + "check_body_model", "no path", lambda: check.check_body_model(None), TypeError, "path must be a str or Path"),
        raises(C + "check_body_model", "report of another type", lambda: check.check_body_model(_tmp() / "x.npz", report=[]),
               TypeError, "report must be a CheckReport"),
        returns(C + "check_amass_dir", "missing folder", lambda: check.check_amass_dir(_tmp() / "AMASS"),
                _problem("does not exist.*HUMANLIB_AMASS_DIR")),
        returns(C + "check_amass_dir", "a file, not a folder", lambda: check.check_amass_dir(_file("amass.npz")),
                _problem("AMASS")),
        returns(C + "check_amass_dir", "no motion file", lambda: check.check_amass_dir(_tmp()), _problem("no motion .npz file")),
        returns(C + "check_amass_dir", "a corrupt motion file next to a good one",
                lambda: check.check_amass_dir(_amass_dir(("01_01_poses.npz", good_amass), ("01_02_poses.npz", b"garbage"))),
                lambda r: len(r.problems) == 1 and "01_02_poses.npz" in r.problems[0] and "1 of 2" in r.passed[0]),
        returns(C + "check_amass_dir", "a truncated motion file",
                lambda: check.check_amass_dir(_amass_dir(("01_01_poses.npz", good_amass[:100]))),
                lambda r: len(r.problems) == 1 and "01_01_poses.npz" in r.problems[0]),
        raises(C + "check_amass_dir", "max_files 0 (would check nothing and pass)",
               lambda: check.check_amass_dir(_tmp(), max_files=0), ValueError, "max_files must be a finite integer > 0"),
        raises(C + "check_amass_dir", "negative max_files (would drop the last file)",
               lambda: check.check_amass_dir(_tmp(), max_files=-1), ValueError, "max_files"),
        raises(C + "check_amass_dir", "max_files as a float", lambda: check.check_amass_dir(_tmp(), max_files=2.5), TypeError,
               "max_files must be an integer"),
        raises(C + "check_amass_dir", "no folder", lambda: check.check_amass_dir(None), TypeError, "root must be a str"),
        raises(C + "check_amass_dir", "report of another type", lambda: check.check_amass_dir(_tmp(), report="r"), TypeError,
               "report must be a CheckReport"),
    ]


# --------------------------------------------------------------------------- bodybuild
# anny is heavy to load (a 1.4 GB cache): the cases stop at the argument checks, which run
# before anny is touched; the build itself is tested in tests/test_bodybuild.py (slow, with anny).


def _rig():
    """Bone labels and parents of a rig that follows SMPL_JOINT_BONES (as tests/test_bodybuild.py)."""
    table = bodybuild._expand(bodybuild.SMPL_JOINT_BONES)
    labels, parents, first = [], [], {}
    for j, name in enumerate(skeleton.JOINT_NAMES):
        for i, bone in enumerate(table[name]):
            parents.append((-1 if j == 0 else first[skeleton.PARENTS[j]]) if i == 0 else len(labels) - 1)
            if i == 0:
                first[j] = len(labels)
            labels.append(bone)
    return labels, parents


def _compact_inputs(**changes):
    V = 6
    weights = torch.zeros(V, 24, dtype=torch.float64)
    weights[:, 1] = 1.0
    args = dict(template=torch.zeros(V, 3, dtype=torch.float64), shapedirs=torch.zeros(V, 3, 2, dtype=torch.float64),
                posedirs=torch.zeros(V, 3, 207, dtype=torch.float64), support=np.zeros(V, np.int64),
                J_regressor=torch.full((24, V), 1 / V, dtype=torch.float64), weights=weights,
                faces=np.array([[0, 1, 2]]), vertex_ids={"nose": 0})
    args.update(changes)
    return args


def _bodybuild_cases():
    BB = "humanlib.bodybuild."
    BF = "humanlib.bodybuild_fit."
    labels, parents = _rig()
    g = torch.Generator().manual_seed(0)
    verts = torch.randn(5, 8, 3, generator=g, dtype=torch.float64)
    feats = torch.zeros(4, 207, dtype=torch.float64)
    compact = bodybuild.compact_arrays(**_compact_inputs())
    return [
        raises(BB + "BuildConfig", "zero betas", lambda: bodybuild.BuildConfig(num_betas=0), ValueError,
               "BuildConfig.num_betas must be a finite integer > 0"),
        raises(BB + "BuildConfig", "float samples", lambda: bodybuild.BuildConfig(samples=100.0), TypeError,
               "BuildConfig.samples must be an integer"),
        raises(BB + "BuildConfig", "more betas than samples", lambda: bodybuild.BuildConfig(num_betas=16, samples=16), ValueError,
               r"num_betas \(16\) must be below samples \(16\)"),
        raises(BB + "BuildConfig", "negative sigma", lambda: bodybuild.BuildConfig(pose_sigma=-0.3), ValueError,
               "BuildConfig.pose_sigma must be a finite number > 0"),
        raises(BB + "BuildConfig", "NaN ridge", lambda: bodybuild.BuildConfig(posedirs_ridge=NAN), ValueError,
               "BuildConfig.posedirs_ridge"),
        raises(BB + "BuildConfig", "ages swapped", lambda: bodybuild.BuildConfig(min_age=65.0, max_age=18.0), ValueError,
               r"min_age \(65.0\) must be below max_age \(18.0\)"),
        raises(BB + "BuildConfig", "negative seed", lambda: bodybuild.BuildConfig(seed=-1), ValueError, "BuildConfig.seed"),
        raises(BB + "BuildConfig", "zero chunk", lambda: bodybuild.BuildConfig(chunk=0), ValueError, "BuildConfig.chunk"),
        raises(BB + "BuildConfig", "string neighbours", lambda: bodybuild.BuildConfig(regressor_neighbours="1000"), TypeError,
               "BuildConfig.regressor_neighbours must be an? integer"),
        raises(BF + "bone_joint_assignment", "lists of different lengths", lambda: bodybuild.bone_joint_assignment(labels, parents[:-1]),
               ValueError, r"bone_labels has \d+ entries but bone_parents has \d+"),
        raises(BF + "bone_joint_assignment", "a repeated label", lambda: bodybuild.bone_joint_assignment(labels + ["root"], parents + [0]),
               ValueError, r"bone_labels repeats \['root'\]"),
        raises(BF + "bone_joint_assignment", "parent outside the rig", lambda: bodybuild.bone_joint_assignment(labels, parents[:-1] + [9999]),
               ValueError, r"bone_parents\[\d+\] is 9999"),
        raises(BF + "bone_joint_assignment", "a label that is not a string", lambda: bodybuild.bone_joint_assignment(labels[:-1] + [3], parents),
               TypeError, r"bone_labels\[\d+\] must be a str"),
        raises(BF + "bone_joint_assignment", "one string instead of a list", lambda: bodybuild.bone_joint_assignment("root", [-1]),
               TypeError, "bone_labels must be a list"),
        raises(BF + "bone_joint_assignment", "a rig missing a bone", lambda: bodybuild.bone_joint_assignment(labels[1:], [-1] + [max(p - 1, -1) for p in parents[2:]]),
               ValueError, "anny has no bone 'root'"),
        raises(BF + "tpose_rotations", "a batch of skeletons", lambda: bodybuild.tpose_rotations(torch.zeros(2, 24, 3)), ValueError,
               r"rest_joints must have shape \(24, 3\); got \(2, 24, 3\)"),
        raises(BF + "tpose_rotations", "NaN joint", lambda: bodybuild.tpose_rotations(_nan_at((24, 3))), ValueError,
               "rest_joints contains 1 non-finite"),
        raises(BF + "tpose_rotations", "all joints at the origin", lambda: bodybuild.tpose_rotations(torch.zeros(24, 3)), ValueError,
               "left_shoulder and left_elbow coincide"),
        raises(BF + "tpose_rotations", "numpy joints", lambda: bodybuild.tpose_rotations(np.zeros((24, 3))), TypeError,
               "rest_joints must be a torch.Tensor"),
        raises(BF + "tpose_rotations", "meta joints", lambda: bodybuild.tpose_rotations(torch.zeros(24, 3, device=META)), ValueError,
               "rest_joints is a meta tensor"),
        raises(BF + "fit_shape_space", "as many betas as bodies", lambda: bodybuild.fit_shape_space(verts, 5), ValueError,
               r"num_betas must be in \[1, 4\] for 5 sample bodies"),
        raises(BF + "fit_shape_space", "no body", lambda: bodybuild.fit_shape_space(torch.zeros(0, 8, 3), 1), ValueError,
               "vertices is empty"),
        raises(BF + "fit_shape_space", "flattened bodies", lambda: bodybuild.fit_shape_space(verts.reshape(5, 24), 2), ValueError,
               r"vertices must have shape \(B, N, 3\)"),
        raises(BF + "fit_shape_space", "NaN vertex", lambda: bodybuild.fit_shape_space(_nan_at((5, 8, 3)), 2), ValueError,
               "non-finite"),
        raises(BF + "fit_shape_space", "float num_betas", lambda: bodybuild.fit_shape_space(verts, 2.0), TypeError,
               "num_betas must be an integer"),
        raises(BF + "fit_joint_regressor", "more neighbours than vertices", lambda: bodybuild.fit_joint_regressor(verts, verts[:, :2], 9, 1e-6),
               ValueError, "neighbours must be at most the 8 vertices; got 9"),
        raises(BF + "fit_joint_regressor", "joints of other bodies", lambda: bodybuild.fit_joint_regressor(verts, verts[:3, :2], 4, 1e-6),
               ValueError, r"joints must have shape \(5, B, 3\); got \(3, 2, 3\)"),
        raises(BF + "fit_joint_regressor", "negative ridge", lambda: bodybuild.fit_joint_regressor(verts, verts[:, :2], 4, -1.0),
               ValueError, "ridge must be a finite number >= 0"),
        raises(BF + "fit_joint_regressor", "float32 joints, float64 vertices",
               lambda: bodybuild.fit_joint_regressor(verts, verts[:, :2].float(), 4, 1e-6), ValueError, "must share dtype and device"),
        raises(BF + "fit_joint_regressor", "zero neighbours", lambda: bodybuild.fit_joint_regressor(verts, verts[:, :2], 0, 1e-6),
               ValueError, "neighbours must be a finite integer > 0"),
        raises(BF + "posedirs_support", "weights of 22 joints", lambda: bodybuild.posedirs_support(torch.rand(8, 22)), ValueError,
               r"joint_weights must have shape \(B, 24\); got \(8, 22\)"),
        raises(BF + "posedirs_support", "numpy weights", lambda: bodybuild.posedirs_support(np.random.rand(8, 24)), TypeError,
               "joint_weights must be a torch.Tensor"),
        raises(BF + "posedirs_support", "meta weights", lambda: bodybuild.posedirs_support(torch.rand(8, 24).to(META)), ValueError,
               "meta tensor"),
        raises(BF + "posedirs_support", "NaN weight", lambda: bodybuild.posedirs_support(_nan_at((8, 24))), ValueError, "non-finite"),
        returns(BF + "posedirs_support", "no vertex: no mask", lambda: bodybuild.posedirs_support(torch.zeros(0, 24)),
                lambda m: m.shape == (0,)),
        raises(BF + "fit_posedirs", "features of another joint count", lambda: bodybuild.fit_posedirs(torch.zeros(4, 189), torch.zeros(4, 8, 3), np.zeros(8, np.int64), 1e-3),
               ValueError, r"features must have shape \(B, 207\)"),
        raises(BF + "fit_posedirs", "targets of other poses", lambda: bodybuild.fit_posedirs(feats, torch.zeros(3, 8, 3, dtype=torch.float64), np.zeros(8, np.int64), 1e-3),
               ValueError, r"targets must have shape \(4, B, 3\)"),
        raises(BF + "fit_posedirs", "support of another vertex count", lambda: bodybuild.fit_posedirs(feats, torch.zeros(4, 8, 3), np.zeros(7, np.int64), 1e-3),
               ValueError, r"support must have shape \(8,\)"),
        raises(BF + "fit_posedirs", "support as a tensor", lambda: bodybuild.fit_posedirs(feats, torch.zeros(4, 8, 3), torch.zeros(8), 1e-3),
               TypeError, "support must be a numpy array"),
        raises(BF + "fit_posedirs", "float support", lambda: bodybuild.fit_posedirs(feats, torch.zeros(4, 8, 3), np.zeros(8), 1e-3),
               ValueError, "support must hold integer bit masks"),
        raises(BF + "fit_posedirs", "inf target", lambda: bodybuild.fit_posedirs(feats, _with((4, 8, 3), INF), np.zeros(8, np.int64), 1e-3),
               ValueError, "targets contains 96 non-finite"),
        raises(BF + "fit_posedirs", "negative ridge", lambda: bodybuild.fit_posedirs(feats, torch.zeros(4, 8, 3), np.zeros(8, np.int64), -1e-3),
               ValueError, "ridge must be a finite number >= 0"),
        raises(BB + "compact_arrays", "weights of another vertex count", lambda: bodybuild.compact_arrays(**_compact_inputs(weights=torch.zeros(5, 24, dtype=torch.float64))),
               ValueError, r"weights must have shape \(6, 24\)"),
        raises(BB + "compact_arrays", "faces beyond the mesh", lambda: bodybuild.compact_arrays(**_compact_inputs(faces=np.array([[0, 1, 6]]))),
               ValueError, r"faces index vertices in \[0, 6\] but there are 6"),
        raises(BB + "compact_arrays", "vertex id beyond the mesh", lambda: bodybuild.compact_arrays(**_compact_inputs(vertex_ids={"nose": 6})),
               ValueError, r"vertex_ids\['nose'\] = 6"),
        raises(BB + "compact_arrays", "NaN template", lambda: bodybuild.compact_arrays(**_compact_inputs(template=_nan_at((6, 3)))),
               ValueError, "template contains 1 non-finite"),
        raises(BB + "compact_arrays", "numpy template", lambda: bodybuild.compact_arrays(**_compact_inputs(template=np.zeros((6, 3)))),
               TypeError, "template must be a torch.Tensor"),
        raises(BB + "compact_arrays", "meta posedirs", lambda: bodybuild.compact_arrays(**_compact_inputs(posedirs=torch.zeros(6, 3, 207, device=META))),
               ValueError, r"posedirs is on meta; .*\.cpu\(\)"),
        raises(BB + "compact_arrays", "vertex_ids as a list", lambda: bodybuild.compact_arrays(**_compact_inputs(vertex_ids=[0])),
               TypeError, "vertex_ids must be a dict"),
        returns(BB + "compact_arrays", "the compact arrays expand to SMPL's layout",
                lambda: body.expand_open_model(bodybuild.compact_arrays(**_compact_inputs())),
                lambda arrays: arrays["weights"].shape == (6, 24) and arrays["posedirs"].shape == (6, 3, 207)),
        raises(BB + "write_compact_model", "out_dir is a file", lambda: bodybuild.write_compact_model(_file("out"), compact, {}),
               NotADirectoryError, "is a file; give a folder"),
        raises(BB + "write_compact_model", "arrays of another model", lambda: bodybuild.write_compact_model(_tmp(), _arrays(), {}),
               ValueError, r"compact lacks \['posedirs_support'"),
        raises(BB + "write_compact_model", "report with a tensor", lambda: bodybuild.write_compact_model(_tmp(), compact, {"err": torch.ones(1)}),
               TypeError, "report must hold JSON values"),
        raises(BB + "write_compact_model", "out_dir None", lambda: bodybuild.write_compact_model(None, compact, {}), TypeError,
               "out_dir must be a str or Path"),
        returns(BB + "write_compact_model", "nothing is written when the report is bad",
                lambda: (lambda d: (_raises(lambda: bodybuild.write_compact_model(d, compact, {"x": object()})), list(d.iterdir())))(_tmp()),
                lambda out: out == (TypeError, [])),
        raises(BB + "anny_teacher", "not the anny wrapper", lambda: bodybuild.anny_teacher(object(), torch.zeros(24, 3, 3), torch.zeros(1, 5), _eye(1, 24)),
               TypeError, r"anny_ must be bodybuild._Anny\(\)"),
        raises(BB + "build_open_body_model", "a dict instead of a BuildConfig (checked before anny loads)",
               lambda: bodybuild.build_open_body_model({"num_betas": 16}), TypeError, "config must be a BuildConfig"),
        raises(BB + "build_open_body_model", "log not callable", lambda: bodybuild.build_open_body_model(bodybuild.BuildConfig(), log="stdout"),
               TypeError, "log must be a function"),
    ]


def _raises(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001 (the type is what the case checks)
        return type(error)
    return None


def _skeleton_joints_cases() -> list:
    S = "humanlib.body.SkeletonJoints"
    sj = lambda: body.SkeletonJoints(_model())  # noqa: E731
    return [
        raises(S, "not a body model", lambda: body.SkeletonJoints(None), TypeError, "BodyModel"),
        raises(S, "a dict of arrays", lambda: body.SkeletonJoints({"v_template": np.zeros((6, 3))}), TypeError,
               "has no J_regressor"),
        raises(S + ".forward", "body pose of 21 joints", lambda: sj()(torch.zeros(2, 4), torch.zeros(2, 21, 3),
               torch.zeros(2, 3)), ValueError, r"pose must have shape \(B, 24, 3\)"),
        raises(S + ".forward", "translations of another batch", lambda: sj()(torch.zeros(2, 4), torch.zeros(2, 24, 3),
               torch.zeros(3, 3)), ValueError, r"transl must have shape \(2, 3\)"),
        raises(S + ".forward", "float64 pose on a float32 model", lambda: sj()(torch.zeros(2, 4),
               torch.zeros(2, 24, 3, dtype=torch.float64), torch.zeros(2, 3)), ValueError, "dtype"),
        returns(S + ".forward", "empty batch gives an empty batch",
                lambda: sj()(torch.zeros(0, 4), torch.zeros(0, 24, 3), torch.zeros(0, 3)), lambda j: j.shape == (0, 24, 3)),
    ]


CASES = (_skeleton_joints_cases() + _rotation_cases() + _skeleton_paths_viz_cases() + _body_term_cases() + _body_model_cases()
         + _body_file_cases() + _bodyplot_cases() + _check_cases() + _bodybuild_cases())

_CLI = "registers CLI parsers; the command's bad arguments are swept in tests/commands/test_commands.py"
EXEMPT: dict[str, str] = {
    "humanlib.skeleton.body_joint_parents": "takes no arguments; derived from the PARENTS constant and tested",
    "humanlib.body.BodyOutput": "result record built by BodyModel.forward, never from user input",
    "humanlib.rotations.axis_angle_to_rotmat_unchecked":
        "unchecked by design, for inner loops whose inputs were checked once; axis_angle_to_rotmat is its checked face",
    "humanlib.body.SkeletonJoints.posed_joints_unchecked":
        "unchecked by design, for inner loops whose inputs were checked once; forward is its checked face",
    "humanlib.check.CheckReport": "result record the check functions fill in; they check its type",
    "humanlib.bodyplot.Decimation": "result record built by bodyplot.decimate; mesh_trace and slider_figure check it",
    "humanlib.body_files.open_body_model_vertex_ids": "takes no arguments; reads the committed asset through paths.asset",
}


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


@settings(max_examples=25, deadline=None)
@given(batch=st.integers(0, 3), joints=st.integers(0, 30), extra=st.booleans())
def test_body_model_any_wrong_pose_shape_names_pose(batch, joints, extra):
    """A pose of any other joint count (or with an extra dim) is a ValueError naming pose and J."""
    if joints == 24 and not extra:
        joints = 23
    shape = (batch, joints, 3) + ((1,) if extra else ())
    with pytest.raises(ValueError, match=r"^pose must have shape \(%d, 24, 3\).*J = 24" % batch):
        _model()(pose=torch.zeros(shape))


@settings(max_examples=25, deadline=None)
@given(batch=st.integers(0, 3), scale=st.floats(0.0, 10.0), seed=st.integers(0, 2**16))
def test_body_model_valid_inputs_give_finite_meshes(batch, scale, seed):
    """Any finite betas, pose (even large angles) and translation give a finite mesh of the right shape."""
    g = torch.Generator().manual_seed(seed)
    betas = scale * torch.randn(batch, 4, generator=g)
    pose = scale * torch.randn(batch, 24, 3, generator=g)
    out = _model()(betas, pose, torch.randn(batch, 3, generator=g))
    assert out.vertices.shape == (batch, V_SMALL, 3)
    assert bool(torch.isfinite(out.vertices).all()) and bool(torch.isfinite(out.transforms).all())


# Bad inputs to the file-reading side of body.py: corrupt files, wrong dtypes and devices.
_FILE_CASES = [
    raises("humanlib.body_files.read_model_file", "truncated .npz (BadZipFile from zipfile)",
           lambda: body.read_model_file(_file("model.npz", b"PK\x03\x04garbage")), ValueError, "model.npz"),
    raises("humanlib.body_files.read_model_file", "empty .npz (EOFError from numpy)",
           lambda: body.read_model_file(_file("model.npz", b"")), ValueError, "model.npz"),
    raises("humanlib.body.load_body_model", "integer dtype (TypeError from nn.Module.to)",
           lambda: body.load_body_model(_model_file(), dtype=torch.int64), ValueError, "dtype"),
    raises("humanlib.body.load_body_model", "a device string torch does not know",
           lambda: body.load_body_model(_model_file(), device="gpu0"), ValueError, "device"),
    raises("humanlib.body.load_body_model", "a path that is a number",
           lambda: body.load_body_model(3), TypeError, "path must be"),
    raises("humanlib.body_files.validate_model_arrays", "a list instead of a dict",
           lambda: body.validate_model_arrays([1, 2]), TypeError, "must be a dict"),
]
if not torch.cuda.is_available():
    _FILE_CASES.append(raises("humanlib.body.load_body_model", "cuda on a machine without a GPU",
                              lambda: body.load_body_model(_model_file(), device="cuda"), ValueError, "no GPU"))


@pytest.mark.parametrize("case", _FILE_CASES, ids=case_id)
def test_model_file_bad_inputs(case):
    run_case(case)
