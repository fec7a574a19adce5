"""Bad inputs to humanlib.fitting (camera, energies, smplify, evaluate, jobs, plots): every public name,
a clear error or a defined result."""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from bad_inputs import case_id, raises, returns, run_case
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from test_fitting import TinyBody

from humanlib.fitting import camera as cam_mod
from humanlib.fitting import energies as en
from humanlib.fitting import evaluate as ev
from humanlib.fitting import jobs, plots
from humanlib.fitting import smplify as sm
from humanlib.fitting.camera import Camera
from humanlib.priors.gmm import GaussianMixture, GMMPosePrior

NAN, INF = float("nan"), float("inf")
META = "meta"


class ModuleBody(torch.nn.Module):
    """The stick body of tests/fitting/test_fitting.py as an ``nn.Module`` (so that ``.to(device)`` moves it)."""

    num_betas = 2

    def __init__(self) -> None:
        super().__init__()
        self.tiny = TinyBody()
        self.register_buffer("anchor", torch.zeros(1))

    def forward(self, betas, pose, transl):
        return self.tiny(betas, pose, transl)


class _SMPLSized:
    """A stand-in with SMPL's 6890 template vertices (never called: the fit must refuse before)."""

    num_betas = 2
    v_template = torch.zeros(6890, 3)

    def __call__(self, betas, pose, transl):
        raise AssertionError("the model should not be called")


TINY = ModuleBody()
SYNTH = ev.SyntheticConfig(noise_px=0.0, missing_prob=0.0, max_yaw_deg=0.0, observed_joints=tuple(range(24)))
BATCH = ev.make_synthetic_batch(TINY, 0.1 * torch.randn(2, 21, 3, generator=torch.Generator().manual_seed(0)), SYNTH)
KP, CONF, CAM = BATCH.keypoints, BATCH.confidence, BATCH.camera
CFG = sm.SMPLifyConfig(stages=sm.smplify_stages(iterations=1), camera_iterations=1, use_interpenetration=False,
                       flip_test=False)
CAM0 = Camera.simple(0, 1000.0, 640, 640)
REST = TINY(torch.zeros(1, 2), torch.zeros(1, 24, 3), torch.zeros(1, 3))
CAPS = en.CapsuleBody(REST.vertices[0], REST.joints[0])
V = REST.vertices.shape[1]


def _fit(**kw):
    args = {"model": TINY, "keypoints": KP, "confidence": CONF, "camera": CAM, "prior": None, "config": CFG}
    args.update(kw)
    return lambda: sm.fit_smplify(**args)


def _with(x, index, value):
    y = x.clone()
    y[index] = value
    return y


def _gmm_prior():
    means = torch.zeros(1, 63)
    return GMMPosePrior(GaussianMixture(torch.ones(1), means, torch.eye(63)[None]), mode="min")


def _kp_nan_unobserved():
    kp = _with(KP, (0, 20), NAN)
    conf = _with(CONF, (0, 20), 0.0)
    return sm.fit_smplify(TINY, kp, conf, CAM, None, CFG)


def _npz(name: str, raw: bytes | None = None, **arrays) -> Path:
    """A keypoint file written into a fresh temporary folder (garbage bytes when ``raw`` is given)."""
    path = Path(tempfile.mkdtemp()) / name
    if raw is not None:
        path.write_bytes(raw)
    else:
        np.savez(path, **arrays)
    return path


def _ax():
    return Figure().add_subplot()


FACES = torch.tensor([[0, 1, 2], [3, 4, 5]])
P = "humanlib.fitting.camera."
E = "humanlib.fitting.energies."
S = "humanlib.fitting.smplify."
EV = "humanlib.fitting.evaluate."
J = "humanlib.fitting.jobs."
PL = "humanlib.fitting.plots."

CASES = [
    # ------------------------------------------------------------------ camera
    raises(P + "Camera", "numpy focal length", lambda: Camera(np.ones((2, 2)), torch.zeros(2, 2)), TypeError,
           "focal_length.*torch.as_tensor"),
    raises(P + "Camera", "focal length (B, 3)", lambda: Camera(torch.ones(2, 3), torch.zeros(2, 3)), ValueError,
           r"focal_length must have shape \(B, 2\)"),
    raises(P + "Camera", "batches differ", lambda: Camera(torch.ones(2, 2), torch.zeros(3, 2)), ValueError,
           "same B"),
    raises(P + "Camera", "negative focal length", lambda: Camera(-torch.ones(2, 2), torch.zeros(2, 2)), ValueError,
           "positive"),
    raises(P + "Camera", "NaN focal length", lambda: Camera(torch.full((2, 2), NAN), torch.zeros(2, 2)), ValueError,
           "focal_length contains 4 non-finite"),
    raises(P + "Camera", "inf principal point", lambda: Camera(torch.ones(1, 2), torch.full((1, 2), INF)), ValueError,
           "principal_point contains"),
    raises(P + "Camera", "integer focal length", lambda: Camera(torch.ones(1, 2, dtype=torch.long), torch.zeros(1, 2)),
           ValueError, "focal_length must be a floating"),
    raises(P + "Camera", "devices differ", lambda: Camera(torch.ones(1, 2), torch.zeros(1, 2, device=META)), ValueError,
           "principal_point is on meta"),
    raises(P + "Camera", "device is checked before values",
           lambda: Camera(torch.full((1, 2), NAN), torch.zeros(1, 2, device=META)), ValueError, "principal_point is on meta"),
    returns(P + "Camera", "zero cameras are an empty batch", lambda: Camera(torch.ones(0, 2), torch.zeros(0, 2)),
            lambda c: c.batch_size == 0),
    raises(P + "Camera.simple", "negative batch size", lambda: Camera.simple(-1, 1000, 640, 640), ValueError,
           "batch_size must be a finite integer >= 0"),
    raises(P + "Camera.simple", "fractional batch size", lambda: Camera.simple(2.5, 1000, 640, 640), TypeError,
           "batch_size must be an integer"),
    raises(P + "Camera.simple", "zero focal", lambda: Camera.simple(1, 0, 640, 640), ValueError, "focal must be"),
    raises(P + "Camera.simple", "NaN focal", lambda: Camera.simple(1, NAN, 640, 640), ValueError, "focal must be"),
    raises(P + "Camera.simple", "negative width", lambda: Camera.simple(1, 1000, -640, 640), ValueError, "width"),
    raises(P + "Camera.simple", "string height", lambda: Camera.simple(1, 1000, 640, "640"), TypeError, "height"),
    raises(P + "Camera.simple", "integer dtype", lambda: Camera.simple(1, 1000, 640, 640, dtype=torch.long), ValueError,
           "dtype must be a floating"),
    raises(P + "Camera.simple", "unknown device", lambda: Camera.simple(1, 1000, 640, 640, device="gpu0"), ValueError,
           "device 'gpu0' is not a torch device"),
    returns(P + "Camera.simple", "zero cameras", lambda: Camera.simple(0, 1000, 640, 640), lambda c: c.batch_size == 0),
    raises(P + "Camera.to", "unknown device", lambda: CAM.to("cpux"), ValueError, "device 'cpux' is not a torch device"),
    raises(P + "Camera.to", "integer dtype", lambda: CAM.to(dtype=torch.int32), ValueError, "dtype must be a floating"),
    raises(P + "Camera.to", "meta camera to the CPU", lambda: CAM.to(META).to("cpu"), ValueError, "meta device"),
    returns(P + "Camera.to", "float64 copy", lambda: CAM.to(dtype=torch.float64),
            lambda c: c.focal_length.dtype == torch.float64 and CAM.focal_length.dtype == torch.float32),
    raises(P + "Camera.index", "a list", lambda: CAM.index([0]), TypeError, "idx must be a torch.Tensor"),
    raises(P + "Camera.index", "float indices", lambda: CAM.index(torch.tensor([0.0])), ValueError, "integer"),
    raises(P + "Camera.index", "index out of range", lambda: CAM.index(torch.tensor([2])), ValueError,
           "out of range for 2 cameras"),
    raises(P + "Camera.index", "mask of the wrong length", lambda: CAM.index(torch.tensor([True, False, True])),
           ValueError, "length 3 for 2 cameras"),
    raises(P + "Camera.index", "2-D index", lambda: CAM.index(torch.zeros(1, 1, dtype=torch.long)), ValueError,
           r"idx must have shape \(B,\)"),
    returns(P + "Camera.index", "empty index gives no cameras", lambda: CAM.index(torch.zeros(0, dtype=torch.long)),
            lambda c: c.batch_size == 0),
    raises(P + "check_camera", "a tuple", lambda: cam_mod.check_camera((1000, 320)), TypeError, "camera must be"),
    raises(P + "check_camera", "another batch", lambda: cam_mod.check_camera(CAM, 3), ValueError,
           "2 cameras for 3 frames"),
    raises(P + "project", "numpy points", lambda: cam_mod.project(np.ones((2, 5, 3)), CAM), TypeError,
           "points.*torch.as_tensor"),
    raises(P + "project", "points (B, N, 2)", lambda: cam_mod.project(torch.ones(2, 5, 2), CAM), ValueError,
           r"points must have shape \(B, N, 3\)"),
    raises(P + "project", "batch differs from the cameras", lambda: cam_mod.project(torch.ones(3, 5, 3), CAM), ValueError,
           "2 cameras for 3"),
    raises(P + "project", "not a camera", lambda: cam_mod.project(torch.ones(2, 5, 3), "camera"), TypeError,
           "camera must be"),
    raises(P + "project", "NaN points", lambda: cam_mod.project(torch.full((2, 5, 3), NAN), CAM), ValueError,
           "points contains 30 non-finite"),
    raises(P + "project", "integer points", lambda: cam_mod.project(torch.ones(2, 5, 3, dtype=torch.long), CAM),
           ValueError, "points must be a floating"),
    raises(P + "project", "points on another device", lambda: cam_mod.project(torch.ones(2, 5, 3, device=META), CAM),
           ValueError, "points is on meta but the camera is on cpu"),
    returns(P + "project", "no points gives no pixels", lambda: cam_mod.project(torch.ones(2, 0, 3), CAM),
            lambda r: r.shape == (2, 0, 2)),
    raises(P + "estimate_depth", "keypoints (B, J, 3)",
           lambda: cam_mod.estimate_depth(torch.ones(2, 24, 3), CONF, REST.joints[0], CAM), ValueError,
           r"joints_2d must have shape \(B, N, 2\)"),
    raises(P + "estimate_depth", "confidence (B, 23)",
           lambda: cam_mod.estimate_depth(KP, CONF[:, :23], REST.joints[0], CAM), ValueError,
           r"confidence must have shape \(2, 24\)"),
    raises(P + "estimate_depth", "rest joints (24, 2)",
           lambda: cam_mod.estimate_depth(KP, CONF, torch.zeros(24, 2), CAM), ValueError, "rest_joints must have shape"),
    raises(P + "estimate_depth", "rest joints of another batch",
           lambda: cam_mod.estimate_depth(KP, CONF, torch.zeros(3, 24, 3), CAM), ValueError,
           r"rest_joints must have shape \(2, 24, 3\)"),
    raises(P + "estimate_depth", "three cameras for two frames",
           lambda: cam_mod.estimate_depth(KP, CONF, REST.joints[0], Camera.simple(3, 1000, 640, 640)), ValueError,
           "3 cameras for 2"),
    raises(P + "estimate_depth", "joint id out of range",
           lambda: cam_mod.estimate_depth(KP, CONF, REST.joints[0], CAM, joint_ids=(1, 99)), ValueError,
           r"joint_ids must be joint indices in \[0, 24\); got \[99\]"),
    raises(P + "estimate_depth", "NaN observed keypoint",
           lambda: cam_mod.estimate_depth(_with(KP, (0, 3), NAN), CONF, REST.joints[0], CAM), ValueError,
           "joints_2d holds non-finite"),
    raises(P + "estimate_depth", "device is checked before values",
           lambda: cam_mod.estimate_depth(_with(KP, (0, 3), NAN), CONF, REST.joints[0].to(META), CAM), ValueError,
           "rest_joints is on meta"),
    raises(P + "estimate_depth", "negative confidence",
           lambda: cam_mod.estimate_depth(KP, -CONF, REST.joints[0], CAM), ValueError, "confidence must be >= 0"),
    returns(P + "estimate_depth", "NaN at a missing joint is ignored",
            lambda: cam_mod.estimate_depth(_with(KP, (0, 3), NAN), _with(CONF, (0, 3), 0.0), REST.joints[0], CAM),
            lambda d: d.shape == (2,) and bool(torch.isfinite(d).all())),
    returns(P + "estimate_depth", "empty batch", lambda: cam_mod.estimate_depth(KP[:0], CONF[:0], REST.joints[0], CAM0),
            lambda d: d.shape == (0,)),
    raises(P + "initial_translation", "posed joints (B, 24, 2)",
           lambda: cam_mod.initial_translation(KP, CONF, torch.zeros(2, 24, 2), torch.ones(2), CAM), ValueError,
           r"posed_joints must have shape \(2, 24, 3\)"),
    raises(P + "initial_translation", "depth of another batch",
           lambda: cam_mod.initial_translation(KP, CONF, torch.zeros(2, 24, 3), torch.ones(3), CAM), ValueError,
           r"depth must have shape \(2,\)"),
    raises(P + "initial_translation", "NaN depth",
           lambda: cam_mod.initial_translation(KP, CONF, torch.zeros(2, 24, 3), torch.full((2,), NAN), CAM),
           ValueError, "depth contains"),
    raises(P + "initial_translation", "device is checked before values",
           lambda: cam_mod.initial_translation(_with(KP, (0, 3), NAN), CONF, torch.full((2, 24, 3), NAN), torch.ones(2),
                                               CAM.to(META)), ValueError, "camera is on meta"),
    raises(P + "initial_translation", "depth on another device",
           lambda: cam_mod.initial_translation(KP, CONF, torch.zeros(2, 24, 3), torch.ones(2, device=META), CAM),
           ValueError, "depth is on meta"),
    raises(P + "shoulders_close", "negative threshold", lambda: cam_mod.shoulders_close(KP, CONF, -1.0), ValueError,
           "threshold_px must be a finite number >= 0"),
    raises(P + "shoulders_close", "14 keypoints", lambda: cam_mod.shoulders_close(KP[:, :14], CONF[:, :14], 40.0),
           ValueError, r"joints_2d must have shape \(B, 24, 2\)"),
    returns(P + "initial_translation", "NaN at a missing joint is ignored",
            lambda: cam_mod.initial_translation(_with(KP, (0, 3), NAN), _with(CONF, (0, 3), 0.0), torch.zeros(2, 24, 3),
                                                torch.ones(2), CAM),
            lambda t: t.shape == (2, 3) and bool(torch.isfinite(t).all())),
    returns(P + "initial_translation", "empty batch",
            lambda: cam_mod.initial_translation(KP[:0], CONF[:0], torch.zeros(0, 24, 3), torch.ones(0), CAM0),
            lambda t: t.shape == (0, 3)),
    returns(P + "shoulders_close", "one flag per frame", lambda: cam_mod.shoulders_close(KP, CONF, 40.0),
            lambda r: r.shape == (2,) and r.dtype == torch.bool),
    # ------------------------------------------------------------------ energies
    raises(E + "geman_mcclure", "sigma 0", lambda: en.geman_mcclure(torch.ones(3), 0.0), ValueError,
           "sigma must be a finite number > 0"),
    raises(E + "geman_mcclure", "NaN sigma", lambda: en.geman_mcclure(torch.ones(3), NAN), ValueError, "sigma"),
    raises(E + "geman_mcclure", "inf sigma", lambda: en.geman_mcclure(torch.ones(3), INF), ValueError, "sigma"),
    raises(E + "geman_mcclure", "string sigma", lambda: en.geman_mcclure(torch.ones(3), "100"), TypeError, "sigma"),
    raises(E + "geman_mcclure", "a list", lambda: en.geman_mcclure([1.0, 2.0], 100.0), TypeError,
           "squared_residual.*torch.as_tensor"),
    raises(E + "geman_mcclure", "negative squared residual", lambda: en.geman_mcclure(-torch.ones(3), 100.0),
           ValueError, "squared_residual must be >= 0"),
    raises(E + "geman_mcclure", "integer residual", lambda: en.geman_mcclure(torch.ones(3, dtype=torch.long), 100.0),
           ValueError, "squared_residual must be a floating"),
    returns(E + "geman_mcclure", "NaN residual gives NaN", lambda: en.geman_mcclure(torch.tensor([NAN, 1.0]), 10.0),
            lambda r: bool(torch.isnan(r[0])) and bool(torch.isfinite(r[1]))),
    raises(E + "check_keypoints", "numpy keypoints", lambda: en.check_keypoints(KP.numpy(), CONF), TypeError,
           "keypoints.*torch.as_tensor"),
    raises(E + "check_keypoints", "keypoints (B, 14, 2)", lambda: en.check_keypoints(KP[:, :14], CONF), ValueError,
           r"keypoints must have shape \(B, 24, 2\)"),
    raises(E + "check_keypoints", "confidence of another batch", lambda: en.check_keypoints(KP, CONF[:1]), ValueError,
           r"confidence must have shape \(2, 24\)"),
    raises(E + "check_keypoints", "numpy confidence", lambda: en.check_keypoints(KP, CONF.numpy()), TypeError,
           "confidence must be a torch.Tensor"),
    raises(E + "check_keypoints", "NaN confidence", lambda: en.check_keypoints(KP, _with(CONF, (1, 2), NAN)),
           ValueError, "confidence must be finite"),
    raises(E + "check_keypoints", "confidence on another device",
           lambda: en.check_keypoints(KP, CONF.to(META)), ValueError, "confidence is on meta"),
    raises(E + "check_keypoints", "inf observed keypoint", lambda: en.check_keypoints(_with(KP, (1, 5), INF), CONF),
           ValueError, r"first frame 1, joint 5 \(right_knee\)"),
    returns(E + "check_keypoints", "NaN where confidence is 0 passes",
            lambda: en.check_keypoints(_with(KP, (1, 5), NAN), _with(CONF, (1, 5), 0.0)), lambda r: r is None),
    returns(E + "check_keypoints", "finite=False lets NaN through",
            lambda: en.check_keypoints(_with(KP, (1, 5), NAN), CONF, finite=False), lambda r: r is None),
    raises(E + "keypoint_energy", "projected (B, J, 3)", lambda: en.keypoint_energy(torch.ones(2, 24, 3), KP, CONF),
           ValueError, r"projected must have shape \(B, N, 2\)"),
    raises(E + "keypoint_energy", "keypoints of another shape", lambda: en.keypoint_energy(KP, KP[:, :14], CONF),
           ValueError, r"keypoints must have shape \(2, 24, 2\)"),
    raises(E + "keypoint_energy", "confidence (B, 14)", lambda: en.keypoint_energy(KP, KP, CONF[:, :14]), ValueError,
           r"confidence must have shape \(2, 24\)"),
    raises(E + "keypoint_energy", "sigma -1", lambda: en.keypoint_energy(KP, KP, CONF, -1.0), ValueError, "sigma"),
    raises(E + "keypoint_energy", "keypoints on another device",
           lambda: en.keypoint_energy(KP, KP.to(META), CONF), ValueError, "keypoints is on meta"),
    returns(E + "keypoint_energy", "NaN keypoint gives NaN energy for that frame",
            lambda: en.keypoint_energy(KP, _with(KP, (0, 3), NAN), CONF),
            lambda r: bool(torch.isnan(r[0])) and float(r[1]) == 0.0),
    raises(E + "BendingJoint", "unknown joint name", lambda: en.BendingJoint("elbow", 1, 1.0), ValueError,
           "BendingJoint name must be an SMPL joint name"),
    raises(E + "BendingJoint", "axis 3", lambda: en.BendingJoint("left_elbow", 3, 1.0), ValueError, "axis must be 0, 1"),
    raises(E + "BendingJoint", "sign 2", lambda: en.BendingJoint("left_elbow", 1, 2.0), ValueError, "sign must be"),
    raises(E + "angle_energy", "pose (B, 23, 3)", lambda: en.angle_energy(torch.zeros(2, 23, 3)), ValueError,
           r"pose must have shape \(B, 24, 3\)"),
    raises(E + "angle_energy", "numpy pose", lambda: en.angle_energy(np.zeros((2, 24, 3))), TypeError,
           "pose.*torch.as_tensor"),
    raises(E + "angle_energy", "joint names instead of BendingJoint",
           lambda: en.angle_energy(torch.zeros(2, 24, 3), ("left_elbow",)), TypeError, "joints must be a tuple of BendingJoint"),
    returns(E + "angle_energy", "NaN pose gives NaN", lambda: en.angle_energy(torch.full((1, 24, 3), NAN)),
            lambda r: bool(torch.isnan(r).all())),
    returns(E + "angle_energy", "no bending joints gives zero", lambda: en.angle_energy(torch.zeros(2, 24, 3), ()),
            lambda r: r.shape == (2,) and bool((r == 0).all())),
    returns(E + "angle_energy", "empty batch", lambda: en.angle_energy(torch.zeros(0, 24, 3)), lambda r: r.shape == (0,)),
    raises(E + "shape_energy", "betas without a batch dim", lambda: en.shape_energy(torch.zeros(10)), ValueError,
           r"betas must have shape \(B, N\)"),
    raises(E + "shape_energy", "integer betas", lambda: en.shape_energy(torch.zeros(2, 10, dtype=torch.long)),
           ValueError, "betas must be a floating"),
    returns(E + "shape_energy", "empty batch", lambda: en.shape_energy(torch.zeros(0, 10)), lambda r: r.shape == (0,)),
    raises(E + "Capsule", "unknown joint", lambda: en.Capsule("shin", "knee", "left_ankle"), ValueError,
           "Capsule start must be an SMPL joint name"),
    raises(E + "CapsuleBody", "vertices (V, 2)", lambda: en.CapsuleBody(torch.zeros(10, 2), REST.joints[0]), ValueError,
           r"rest_vertices must have shape \(B, 3\)"),
    raises(E + "CapsuleBody", "no vertices", lambda: en.CapsuleBody(torch.zeros(0, 3), REST.joints[0]), ValueError,
           "rest_vertices is empty"),
    raises(E + "CapsuleBody", "23 joints", lambda: en.CapsuleBody(REST.vertices[0], REST.joints[0, :23]), ValueError,
           r"rest_joints must have shape \(24, 3\)"),
    raises(E + "CapsuleBody", "NaN vertices", lambda: en.CapsuleBody(torch.full((5, 3), NAN), REST.joints[0]),
           ValueError, "rest_vertices contains"),
    raises(E + "CapsuleBody", "zero spheres", lambda: en.CapsuleBody(REST.vertices[0], REST.joints[0], 0), ValueError,
           "spheres_per_part"),
    raises(E + "CapsuleBody", "negative sigma scale",
           lambda: en.CapsuleBody(REST.vertices[0], REST.joints[0], sigma_scale=-1.0), ValueError, "sigma_scale"),
    raises(E + "CapsuleBody", "a mesh with a part without vertices",
           lambda: en.CapsuleBody(REST.vertices[0, :3], REST.joints[0]), ValueError, "no vertex of rest_vertices"),
    raises(E + "CapsuleBody", "device is checked before values",
           lambda: en.CapsuleBody(torch.full((5, 3), NAN), REST.joints[0].to(META)), ValueError, "rest_joints is on meta"),
    raises(E + "CapsuleBody", "joints on another device",
           lambda: en.CapsuleBody(REST.vertices[0], REST.joints[0].to(META)), ValueError, "rest_joints is on meta"),
    raises(E + "CapsuleBody.radii", "another mesh", lambda: CAPS.radii(torch.zeros(1, 7, 3), REST.joints), ValueError,
           rf"rest_vertices must have shape \(B, {V}, 3\)"),
    raises(E + "CapsuleBody.radii", "batches differ", lambda: CAPS.radii(REST.vertices, REST.joints.expand(2, 24, 3)),
           ValueError, r"rest_joints must have shape \(1, 24, 3\)"),
    raises(E + "CapsuleBody.radii", "NaN vertices", lambda: CAPS.radii(torch.full_like(REST.vertices, NAN), REST.joints),
           ValueError, "rest_vertices contains"),
    returns(E + "CapsuleBody.radii", "empty batch", lambda: CAPS.radii(REST.vertices[:0], REST.joints[:0]),
            lambda r: r.shape == (0, 10)),
    raises(E + "CapsuleBody.spheres", "radii of 9 parts", lambda: CAPS.spheres(REST.joints, torch.ones(1, 9)),
           ValueError, r"radii must have shape \(1, 10\)"),
    raises(E + "CapsuleBody.spheres", "joints (B, 23, 3)", lambda: CAPS.spheres(REST.joints[:, :23], torch.ones(1, 10)),
           ValueError, r"joints must have shape \(B, 24, 3\)"),
    returns(E + "CapsuleBody.spheres", "empty batch", lambda: CAPS.spheres(torch.zeros(0, 24, 3), torch.ones(0, 10)),
            lambda r: r[0].shape == (0, 40, 3) and r[1].shape == (0, 40)),
    raises(E + "interpenetration_energy", "float pairs",
           lambda: en.interpenetration_energy(torch.zeros(1, 4, 3), torch.ones(1, 4), torch.zeros(2, 2)), ValueError,
           "pairs must hold integer"),
    raises(E + "interpenetration_energy", "pair out of range",
           lambda: en.interpenetration_energy(torch.zeros(1, 4, 3), torch.ones(1, 4), torch.tensor([[0, 4]])),
           ValueError, r"pairs must index the 4 spheres"),
    raises(E + "interpenetration_energy", "zero widths",
           lambda: en.interpenetration_energy(torch.zeros(1, 4, 3), torch.zeros(1, 4), torch.tensor([[0, 1]])),
           ValueError, "sigmas must be > 0"),
    raises(E + "interpenetration_energy", "sigmas of another count",
           lambda: en.interpenetration_energy(torch.zeros(1, 4, 3), torch.ones(1, 3), torch.tensor([[0, 1]])),
           ValueError, r"sigmas must have shape \(1, 4\)"),
    raises(E + "interpenetration_energy", "pairs (P, 3)",
           lambda: en.interpenetration_energy(torch.zeros(1, 4, 3), torch.ones(1, 4), torch.zeros(1, 3, dtype=torch.long)),
           ValueError, r"pairs must have shape \(B, 2\)"),
    returns(E + "interpenetration_energy", "no pairs gives zero",
            lambda: en.interpenetration_energy(torch.zeros(2, 4, 3), torch.ones(2, 4), torch.zeros(0, 2, dtype=torch.long)),
            lambda r: r.shape == (2,) and bool((r == 0).all())),
    # ------------------------------------------------------------------ smplify: configuration
    raises("humanlib.fitting.smplify_config.SMPLifyStage", "negative pose weight", lambda: sm.SMPLifyStage(-1.0, 1.0, 1.0, 1.0), ValueError,
           "SMPLifyStage.pose_weight must be a finite number >= 0"),
    raises("humanlib.fitting.smplify_config.SMPLifyStage", "NaN shape weight", lambda: sm.SMPLifyStage(1.0, NAN, 1.0, 1.0), ValueError,
           "SMPLifyStage.shape_weight"),
    raises("humanlib.fitting.smplify_config.SMPLifyStage", "negative iterations", lambda: sm.SMPLifyStage(1.0, 1.0, 1.0, 1.0, -3), ValueError,
           "SMPLifyStage.iterations"),
    raises("humanlib.fitting.smplify_config.SMPLifyStage", "fractional iterations", lambda: sm.SMPLifyStage(1.0, 1.0, 1.0, 1.0, 2.5), TypeError,
           "SMPLifyStage.iterations must be an integer"),
    raises("humanlib.fitting.smplify_config.smplify_stages", "negative iterations", lambda: sm.smplify_stages(-1), ValueError, "iterations"),
    raises("humanlib.fitting.smplify_config.smplify_stages", "negative interpenetration weight",
           lambda: sm.smplify_stages(interpenetration_weight=-5.0), ValueError, "interpenetration_weight"),
    returns("humanlib.fitting.smplify_config.smplify_stages", "zero iterations is the initialisation only", lambda: sm.smplify_stages(0),
            lambda r: len(r) == 4 and all(s.iterations == 0 for s in r)),
    raises("humanlib.fitting.smplify_config.SMPLifyConfig", "no stages", lambda: sm.SMPLifyConfig(stages=()), ValueError, "at least one stage"),
    raises("humanlib.fitting.smplify_config.SMPLifyConfig", "a stage not in a tuple",
           lambda: sm.SMPLifyConfig(stages=sm.SMPLifyStage(1.0, 1.0, 1.0, 1.0)), TypeError, "tuple of SMPLifyStage"),
    raises("humanlib.fitting.smplify_config.SMPLifyConfig", "stages of numbers", lambda: sm.SMPLifyConfig(stages=(1, 2)), TypeError,
           "SMPLifyConfig.stages must hold SMPLifyStage"),
    raises("humanlib.fitting.smplify_config.SMPLifyConfig", "sigma 0", lambda: sm.SMPLifyConfig(sigma_px=0.0), ValueError, "SMPLifyConfig.sigma_px"),
    raises("humanlib.fitting.smplify_config.SMPLifyConfig", "negative camera iterations", lambda: sm.SMPLifyConfig(camera_iterations=-1), ValueError,
           "SMPLifyConfig.camera_iterations"),
    raises("humanlib.fitting.smplify_config.SMPLifyConfig", "L-BFGS history 0", lambda: sm.SMPLifyConfig(lbfgs_history=0), ValueError,
           "SMPLifyConfig.lbfgs_history"),
    raises("humanlib.fitting.smplify_config.SMPLifyConfig", "min visible joints 0", lambda: sm.SMPLifyConfig(min_visible_joints=0), ValueError,
           "SMPLifyConfig.min_visible_joints"),
    raises("humanlib.fitting.smplify_config.SMPLifyConfig", "min visible joints 25", lambda: sm.SMPLifyConfig(min_visible_joints=25), ValueError,
           "min_visible_joints must be <= 24"),
    raises("humanlib.fitting.smplify_config.SMPLifyConfig", "the string 'False' as a switch", lambda: sm.SMPLifyConfig(flip_test="False"), TypeError,
           "SMPLifyConfig.flip_test must be True or False"),
    raises("humanlib.fitting.smplify_config.SMPLifyConfig", "negative depth weight", lambda: sm.SMPLifyConfig(depth_weight=-1.0), ValueError,
           "SMPLifyConfig.depth_weight"),
    raises("humanlib.fitting.smplify_config.SMPLifyConfig", "inf flip threshold", lambda: sm.SMPLifyConfig(flip_threshold_px=INF), ValueError,
           "SMPLifyConfig.flip_threshold_px"),
    raises("humanlib.fitting.smplify_config.SMPLifyConfig", "unknown on_invalid", lambda: sm.SMPLifyConfig(on_invalid="ignore"), ValueError,
           "on_invalid must be 'raise' or 'skip'"),
    raises("humanlib.fitting.smplify_config.SMPLifyConfig", "unknown optimizer", lambda: sm.SMPLifyConfig(optimizer="adam"), ValueError,
           "optimizer must be one of 'per-frame', 'batch'"),
    raises("humanlib.fitting.smplify_config.SMPLifyConfig", "unknown precision", lambda: sm.SMPLifyConfig(precision="float16"), ValueError,
           "precision must be 'float64' or 'input'"),
    returns("humanlib.fitting.smplify_config.SMPLifyConfig", "a list of stages becomes a tuple",
            lambda: sm.SMPLifyConfig(stages=list(sm.smplify_stages())), lambda c: isinstance(c.stages, tuple)),
    raises("humanlib.fitting.smplify_config.SMPLifyConfig.weight", "negative weight", lambda: CFG.weight(-1.0), ValueError, "value must be"),
    raises("humanlib.fitting.smplify_config.SMPLifyConfig.weight", "NaN weight", lambda: CFG.weight(NAN), ValueError, "value must be"),
    returns("humanlib.fitting.smplify_config.SMPLifyConfig.weight", "squared by default", lambda: CFG.weight(3.0), lambda r: r == 9.0),
    raises("humanlib.fitting.smplify_config.SMPLifyConfig.with_iterations", "negative", lambda: CFG.with_iterations(-1), ValueError, "iterations"),
    raises("humanlib.fitting.smplify_config.SMPLifyConfig.with_iterations", "a string", lambda: CFG.with_iterations("3"), TypeError, "iterations"),
    returns("humanlib.fitting.smplify_config.SMPLifyConfig.with_iterations", "zero", lambda: CFG.with_iterations(0),
            lambda c: all(s.iterations == 0 for s in c.stages)),
    raises("humanlib.fitting.smplify_config.SMPLifyInit", "numpy betas", lambda: sm.SMPLifyInit(np.zeros((2, 2)), torch.zeros(2, 24, 3),
                                                                    torch.zeros(2, 3)), TypeError, "init.betas"),
    raises("humanlib.fitting.smplify_config.SMPLifyInit", "pose (B, 21, 3)", lambda: sm.SMPLifyInit(torch.zeros(2, 2), torch.zeros(2, 21, 3),
                                                                       torch.zeros(2, 3)), ValueError,
           r"init.pose must have shape \(2, 24, 3\)"),
    raises("humanlib.fitting.smplify_config.SMPLifyInit", "transl of another batch", lambda: sm.SMPLifyInit(torch.zeros(2, 2), torch.zeros(2, 24, 3),
                                                                               torch.zeros(3, 3)), ValueError,
           r"init.transl must have shape \(2, 3\)"),
    raises("humanlib.fitting.smplify_config.SMPLifyInit", "NaN pose", lambda: sm.SMPLifyInit(torch.zeros(2, 2), torch.full((2, 24, 3), NAN),
                                                                torch.zeros(2, 3)), ValueError, "init.pose contains"),
    raises("humanlib.fitting.smplify_config.SMPLifyInit", "device is checked before values",
           lambda: sm.SMPLifyInit(torch.full((2, 2), NAN), torch.zeros(2, 24, 3, device=META), torch.zeros(2, 3)),
           ValueError, "init.pose is on meta"),
    raises("humanlib.fitting.smplify_config.SMPLifyInit", "pose on another device",
           lambda: sm.SMPLifyInit(torch.zeros(2, 2), torch.zeros(2, 24, 3, device=META), torch.zeros(2, 3)),
           ValueError, "init.pose is on meta"),
    raises(S + "sanitize_keypoints", "keypoints (B, 24, 3)", lambda: sm.sanitize_keypoints(torch.zeros(2, 24, 3), CONF),
           ValueError, r"keypoints must have shape \(B, 24, 2\)"),
    raises(S + "sanitize_keypoints", "negative confidence", lambda: sm.sanitize_keypoints(KP, -CONF), ValueError,
           ">= 0"),
    returns(S + "sanitize_keypoints", "NaN keypoints become missing",
            lambda: sm.sanitize_keypoints(_with(KP, (0, 4), NAN), CONF),
            lambda r: float(r[1][0, 4]) == 0.0 and bool(torch.isfinite(r[0]).all()) and float(r[1][1, 4]) == 1.0),
    returns(S + "sanitize_keypoints", "empty batch", lambda: sm.sanitize_keypoints(torch.zeros(0, 24, 2), torch.zeros(0, 24)),
            lambda r: r[0].shape == (0, 24, 2) and r[1].shape == (0, 24)),
    # ------------------------------------------------------------------ smplify: fit_smplify
    raises(S + "fit_smplify", "numpy keypoints", _fit(keypoints=KP.numpy()), TypeError, "keypoints.*torch.as_tensor"),
    raises(S + "fit_smplify", "14 keypoints", _fit(keypoints=KP[:, :14], confidence=CONF[:, :14]), ValueError,
           r"keypoints must have shape \(B, 24, 2\)"),
    raises(S + "fit_smplify", "integer keypoints", _fit(keypoints=KP.long()), ValueError, "keypoints must be a floating"),
    raises(S + "fit_smplify", "float16 keypoints", _fit(keypoints=KP.half()), ValueError, "float32 or float64"),
    raises(S + "fit_smplify", "empty batch", _fit(keypoints=KP[:0], confidence=CONF[:0], camera=CAM.index(torch.tensor([], dtype=torch.long))),
           ValueError, r"empty batch \(B = 0\)"),
    raises(S + "fit_smplify", "confidence of another batch", _fit(confidence=CONF[:1]), ValueError,
           r"confidence must have shape \(2, 24\)"),
    raises(S + "fit_smplify", "numpy confidence", _fit(confidence=CONF.numpy()), TypeError, "confidence"),
    raises(S + "fit_smplify", "NaN confidence", _fit(confidence=_with(CONF, (0, 0), NAN)), ValueError,
           "confidence must be finite"),
    raises(S + "fit_smplify", "negative confidence", _fit(confidence=_with(CONF, (0, 0), -1.0)), ValueError, ">= 0"),
    raises(S + "fit_smplify", "NaN keypoint with positive confidence", _fit(keypoints=_with(KP, (1, 7), NAN)), ValueError,
           r"first frame 1, joint 7 \(left_ankle\).*sanitize_keypoints"),
    raises(S + "fit_smplify", "inf keypoint", _fit(keypoints=_with(KP, (0, 0), INF)), ValueError, "non-finite"),
    returns(S + "fit_smplify", "NaN keypoint with zero confidence is missing", _kp_nan_unobserved,
            lambda r: bool(r.valid.all()) and bool(torch.isfinite(r.pose).all()) and bool(torch.isfinite(r.energy).all())),
    raises(S + "fit_smplify", "three cameras for two frames", _fit(camera=Camera.simple(3, 1000, 640, 640)), ValueError,
           "3 cameras for 2 frames"),
    raises(S + "fit_smplify", "camera as a tuple", _fit(camera=(1000.0, 320.0, 320.0)), TypeError, "camera must be"),
    raises(S + "fit_smplify", "camera on another device", _fit(camera=CAM.to(META)), ValueError,
           "camera is on meta but keypoints is on cpu"),
    raises(S + "fit_smplify", "confidence on another device", _fit(confidence=CONF.to(META)), ValueError,
           "confidence is on meta"),
    raises(S + "fit_smplify", "device is checked before values",
           _fit(keypoints=_with(KP, (0, 0), NAN), model=ModuleBody().to(META)), ValueError, "the model is on meta"),
    raises(S + "fit_smplify", "model on another device", _fit(model=ModuleBody().to(META)), ValueError,
           "the model is on meta but keypoints are on cpu"),
    raises(S + "fit_smplify", "keypoints on another device than the model",
           _fit(keypoints=KP.to(META), confidence=CONF.to(META), camera=CAM.to(META)), ValueError,
           "the model is on cpu but keypoints are on meta"),
    raises(S + "fit_smplify", "float64 keypoints for a float32 model", _fit(keypoints=KP.double(), confidence=CONF.double()),
           ValueError, "the model is torch.float32 but keypoints are torch.float64"),
    returns(S + "fit_smplify", "float64 keypoints, a float64 model and a float32 prior",
            lambda: sm.fit_smplify(ModuleBody().double(), KP.double(), CONF.double(), CAM, _gmm_prior(), CFG),
            lambda r: r.pose.dtype == torch.float64 and bool(torch.isfinite(r.energy).all())),
    raises(S + "fit_smplify", "meta keypoints and a model without tensors",
           lambda: sm.fit_smplify(lambda betas, pose, transl: None, KP.to(META), CONF.to(META), CAM.to(META)),
           ValueError, "meta device"),
    raises(S + "fit_smplify", "prior on another device", _fit(prior=_gmm_prior().to(META)), ValueError,
           "the prior is on meta but keypoints are on cpu"),
    raises(S + "fit_smplify", "prior given by name", _fit(prior="gmm-min"), TypeError, "prior must be a humanlib.priors.PosePrior"),
    raises(S + "fit_smplify", "config as a dict", _fit(config={"sigma_px": 100.0}), TypeError, "config must be an SMPLifyConfig"),
    raises(S + "fit_smplify", "capsules of the wrong kind", lambda: sm.fit_smplify(TINY, KP, CONF, CAM, capsules="spheres"),
           TypeError, "capsules must be a CapsuleBody"),
    raises(S + "fit_smplify", "capsules of another mesh",
           lambda: sm.fit_smplify(_SMPLSized(), KP, CONF, CAM, capsules=CAPS), ValueError, rf"built from a mesh of {V} vertices but the model has 6890"),
    raises(S + "fit_smplify", "init as a dict", lambda: sm.fit_smplify(TINY, KP, CONF, CAM, init={"pose": None}),
           TypeError, "init must be an SMPLifyInit"),
    raises(S + "fit_smplify", "init of another batch",
           lambda: sm.fit_smplify(TINY, KP, CONF, CAM, init=sm.SMPLifyInit(torch.zeros(3, 2), torch.zeros(3, 24, 3),
                                                                           torch.zeros(3, 3))),
           ValueError, r"init.betas must have shape \(2, 2\)"),
    raises(S + "fit_smplify", "init with 10 betas for a 2-beta model",
           lambda: sm.fit_smplify(TINY, KP, CONF, CAM, init=sm.SMPLifyInit(torch.zeros(2, 10), torch.zeros(2, 24, 3),
                                                                           torch.zeros(2, 3))),
           ValueError, r"init.betas must have shape \(2, 2\)"),
    raises(S + "fit_smplify", "model is not callable", _fit(model="smpl"), TypeError, "model must be a body model"),
    raises(S + "fit_smplify", "model returns 17 joints",
           _fit(model=lambda betas, pose, transl: SimpleNamespace(joints=torch.zeros(len(betas), 17, 3))), ValueError,
           r"joints of shape \(2, 24, 3\)"),
    returns(S + "fit_smplify", "every frame invalid, on_invalid='skip'",
            _fit(confidence=torch.zeros(2, 24), config=sm.SMPLifyConfig(stages=CFG.stages, on_invalid="skip")),
            lambda r: not bool(r.valid.any()) and bool(torch.isnan(r.energy).all()) and r.pose.shape == (2, 24, 3)),
    raises(S + "fit_smplify", "frames without keypoints", _fit(confidence=_with(CONF, 1, 0.0)), ValueError,
           r"frames \[1\].*on_invalid='skip'"),
    # ------------------------------------------------------------------ evaluate
    raises(EV + "procrustes_align", "shapes differ", lambda: ev.procrustes_align(torch.zeros(2, 5, 3), torch.zeros(2, 6, 3)),
           ValueError, r"\(B, N, 3\) of the same shape"),
    raises(EV + "procrustes_align", "points (B, N, 2)", lambda: ev.procrustes_align(torch.zeros(2, 5, 2), torch.zeros(2, 5, 2)),
           ValueError, r"source must have shape \(B, N, 3\)"),
    raises(EV + "procrustes_align", "no points", lambda: ev.procrustes_align(torch.zeros(2, 0, 3), torch.zeros(2, 0, 3)),
           ValueError, "no points"),
    raises(EV + "procrustes_align", "NaN target", lambda: ev.procrustes_align(torch.ones(2, 5, 3), torch.full((2, 5, 3), NAN)),
           ValueError, "target contains"),
    raises(EV + "procrustes_align", "float16", lambda: ev.procrustes_align(torch.rand(2, 5, 3).half(), torch.rand(2, 5, 3).half()),
           ValueError, "float32 or float64"),
    raises(EV + "procrustes_align", "target on another device",
           lambda: ev.procrustes_align(torch.rand(2, 5, 3), torch.rand(2, 5, 3, device=META)), ValueError, "target is on meta"),
    returns(EV + "procrustes_align", "empty batch", lambda: ev.procrustes_align(torch.rand(0, 5, 3), torch.rand(0, 5, 3)),
            lambda r: r.shape == (0, 5, 3)),
    raises(EV + "root_align", "roots (B, 2)",
           lambda: ev.root_align(torch.zeros(2, 5, 3), torch.zeros(2, 5, 3), torch.zeros(2, 2), torch.zeros(2, 3)),
           ValueError, r"source_root must have shape \(2, 3\)"),
    raises(EV + "root_align", "target of another batch",
           lambda: ev.root_align(torch.zeros(2, 5, 3), torch.zeros(3, 5, 3), torch.zeros(2, 3), torch.zeros(2, 3)),
           ValueError, r"target must have shape \(2, B, 3\)"),
    raises(EV + "root_align", "NaN root",
           lambda: ev.root_align(torch.zeros(2, 5, 3), torch.zeros(2, 5, 3), torch.zeros(2, 3), torch.full((2, 3), NAN)),
           ValueError, "target_root contains"),
    raises(EV + "mean_distance_mm", "shapes differ", lambda: ev.mean_distance_mm(torch.zeros(2, 5, 3), torch.zeros(1, 5, 3)),
           ValueError, "same shape"),
    raises(EV + "mean_distance_mm", "no points", lambda: ev.mean_distance_mm(torch.zeros(2, 0, 3), torch.zeros(2, 0, 3)),
           ValueError, "no points"),
    raises(EV + "mean_distance_mm", "NaN", lambda: ev.mean_distance_mm(torch.full((2, 5, 3), NAN), torch.zeros(2, 5, 3)),
           ValueError, "a contains"),
    returns(EV + "root_align", "empty batch",
            lambda: ev.root_align(torch.zeros(0, 5, 3), torch.zeros(0, 5, 3), torch.zeros(0, 3), torch.zeros(0, 3)),
            lambda r: r.shape == (0, 5, 3)),
    returns(EV + "mean_distance_mm", "empty batch", lambda: ev.mean_distance_mm(torch.zeros(0, 5, 3), torch.zeros(0, 5, 3)),
            lambda r: r.shape == (0,)),
    raises(EV + "fit_errors", "23 joints",
           lambda: ev.fit_errors(REST.vertices, REST.joints[:, :23], REST.vertices, REST.joints), ValueError,
           r"pred_joints must have shape \(1, 24, 3\)"),
    raises(EV + "fit_errors", "meshes differ",
           lambda: ev.fit_errors(REST.vertices[:, :5], REST.joints, REST.vertices, REST.joints), ValueError,
           "pred_vertices and true_vertices must both be"),
    raises(EV + "fit_errors", "NaN true joints",
           lambda: ev.fit_errors(REST.vertices, REST.joints, REST.vertices, torch.full_like(REST.joints, NAN)), ValueError,
           "true_joints contains"),
    returns(EV + "fit_errors", "empty batch",
            lambda: ev.fit_errors(REST.vertices[:0], REST.joints[:0], REST.vertices[:0], REST.joints[:0]),
            lambda r: r.v2v.shape == (0,) and r.joints_pa.shape == (0,)),
    raises(EV + "SyntheticConfig", "zero focal", lambda: ev.SyntheticConfig(focal=0.0), ValueError, "SyntheticConfig.focal"),
    raises(EV + "SyntheticConfig", "fractional image size", lambda: ev.SyntheticConfig(image_size=640.5), TypeError,
           "SyntheticConfig.image_size must be an integer"),
    raises(EV + "SyntheticConfig", "depth range reversed", lambda: ev.SyntheticConfig(depth_range=(6.0, 4.5)), ValueError,
           "near <= far"),
    raises(EV + "SyntheticConfig", "depth 0", lambda: ev.SyntheticConfig(depth_range=(0.0, 4.5)), ValueError,
           "SyntheticConfig.depth_range"),
    raises(EV + "SyntheticConfig", "one depth", lambda: ev.SyntheticConfig(depth_range=5.0), ValueError, r"\(near, far\)"),
    raises(EV + "SyntheticConfig", "probability 1.5", lambda: ev.SyntheticConfig(missing_prob=1.5), ValueError,
           r"missing_prob must be a probability in \[0, 1\]"),
    raises(EV + "SyntheticConfig", "negative noise", lambda: ev.SyntheticConfig(noise_px=-1.0), ValueError,
           "SyntheticConfig.noise_px"),
    raises(EV + "SyntheticConfig", "NaN beta clip", lambda: ev.SyntheticConfig(beta_clip=NAN), ValueError,
           "SyntheticConfig.beta_clip"),
    raises(EV + "SyntheticConfig", "no observed joints", lambda: ev.SyntheticConfig(observed_joints=()), ValueError,
           "observed_joints must be a non-empty tuple"),
    raises(EV + "SyntheticConfig", "joint 30 observed", lambda: ev.SyntheticConfig(observed_joints=(0, 30)), ValueError,
           r"\[0, 24\)"),
    raises(EV + "SyntheticBatch.subset", "a tensor of indices",
           lambda: ev.make_synthetic_batch(TINY, torch.zeros(2, 21, 3)).subset(torch.tensor([0])), TypeError, "slice or a list"),
    raises(EV + "SyntheticBatch.subset", "an index past the end",
           lambda: ev.make_synthetic_batch(TINY, torch.zeros(2, 21, 3)).subset([2]), IndexError, "out of range"),
    raises(EV + "SyntheticBatch.subset", "no frame", lambda: ev.make_synthetic_batch(TINY, torch.zeros(2, 21, 3)).subset([]),
           ValueError, "no frame"),
    raises(EV + "make_synthetic_batch", "full poses instead of body poses",
           lambda: ev.make_synthetic_batch(TINY, torch.zeros(2, 24, 3)), ValueError, r"body_poses must have shape \(B, 21, 3\)"),
    raises(EV + "make_synthetic_batch", "numpy poses", lambda: ev.make_synthetic_batch(TINY, np.zeros((2, 21, 3))),
           TypeError, "body_poses.*torch.as_tensor"),
    raises(EV + "make_synthetic_batch", "NaN poses", lambda: ev.make_synthetic_batch(TINY, torch.full((2, 21, 3), NAN)),
           ValueError, "body_poses contains"),
    raises(EV + "make_synthetic_batch", "no poses", lambda: ev.make_synthetic_batch(TINY, torch.zeros(0, 21, 3)),
           ValueError, "body_poses is empty"),
    raises(EV + "make_synthetic_batch", "poses on the meta device",
           lambda: ev.make_synthetic_batch(TINY, torch.zeros(2, 21, 3, device=META)), ValueError, "made on the CPU"),
    raises(EV + "make_synthetic_batch", "model on the meta device",
           lambda: ev.make_synthetic_batch(ModuleBody().to(META), torch.zeros(2, 21, 3)), ValueError,
           "the model is on meta"),
    raises(EV + "make_synthetic_batch", "float64 model",
           lambda: ev.make_synthetic_batch(ModuleBody().double(), torch.zeros(2, 21, 3)), ValueError,
           "synthetic batches are float32"),
    raises(EV + "make_synthetic_batch", "config as a dict",
           lambda: ev.make_synthetic_batch(TINY, torch.zeros(2, 21, 3), {"focal": 500.0}), TypeError,
           "config must be a SyntheticConfig"),
    raises(EV + "make_synthetic_batch", "negative seed", lambda: ev.make_synthetic_batch(TINY, torch.zeros(2, 21, 3), seed=-1),
           ValueError, "seed"),
    raises(EV + "make_synthetic_batch", "model returns 17 joints",
           lambda: ev.make_synthetic_batch(lambda betas, pose, transl: SimpleNamespace(joints=torch.zeros(2, 17, 3)),
                                           torch.zeros(2, 21, 3)), ValueError, r"joints of shape \(2, 24, 3\)"),
    # ------------------------------------------------------------------ jobs
    raises(J + "read_keypoints_npz", "missing file", lambda: jobs.read_keypoints_npz("/nonexistent/kp.npz"),
           FileNotFoundError, "keypoint file .*kp.npz does not exist"),
    raises(J + "read_keypoints_npz", "a folder", lambda: jobs.read_keypoints_npz(tempfile.mkdtemp()), FileNotFoundError,
           "is a folder"),
    raises(J + "read_keypoints_npz", "garbage bytes", lambda: jobs.read_keypoints_npz(_npz("kp.npz", b"PK\x03\x04garbage")),
           ValueError, "not a readable .npz"),
    raises(J + "read_keypoints_npz", "no 'keypoints' key",
           lambda: jobs.read_keypoints_npz(_npz("kp.npz", joints=np.zeros((2, 24, 2)))), ValueError, "has no 'keypoints'"),
    raises(J + "read_keypoints_npz", "14 keypoints",
           lambda: jobs.read_keypoints_npz(_npz("kp.npz", keypoints=np.zeros((2, 14, 2)))), ValueError,
           "'keypoints' in .* must have shape"),
    raises(J + "read_keypoints_npz", "confidence of another batch",
           lambda: jobs.read_keypoints_npz(_npz("kp.npz", keypoints=np.zeros((2, 24, 2)), confidence=np.ones((3, 24)))),
           ValueError, "'confidence' in .* must have shape"),
    raises(J + "read_keypoints_npz", "NaN keypoints",
           lambda: jobs.read_keypoints_npz(_npz("kp.npz", keypoints=np.full((2, 24, 2), np.nan))), ValueError,
           "NaN or inf; give missing joints confidence 0"),
    raises(J + "read_keypoints_npz", "no frames",
           lambda: jobs.read_keypoints_npz(_npz("kp.npz", keypoints=np.zeros((0, 24, 2)))), ValueError, "no frames"),
    returns(J + "read_keypoints_npz", "confidence defaults to ones",
            lambda: jobs.read_keypoints_npz(_npz("kp.npz", keypoints=np.zeros((2, 24, 2)))),
            lambda r: r[0].shape == (2, 24, 2) and r[0].dtype == torch.float32 and bool((r[1] == 1).all())),
    raises("humanlib.priors.registry.load_prior", "None", lambda: jobs.make_prior(None), TypeError, "prior name must be a str"),
    raises("humanlib.priors.registry.load_prior", "unknown name", lambda: jobs.make_prior("gmm-max"), ValueError, "unknown prior 'gmm-max'"),
    raises(J + "Variant", "unknown prior", lambda: jobs.Variant("x", "gmm"), ValueError, "Variant.prior must be one of"),
    raises(J + "Variant", "empty name", lambda: jobs.Variant(" ", "none"), ValueError, "Variant.name"),
    raises(J + "Variant", "a string switch", lambda: jobs.Variant("x", "none", angle="no"), TypeError,
           "Variant.angle must be True or False"),
    raises(J + "corpus_test_poses", "zero frames", lambda: jobs.corpus_test_poses(0), ValueError, "num_frames"),
    raises(J + "corpus_test_poses", "fractional frames", lambda: jobs.corpus_test_poses(2.5), TypeError, "num_frames"),
    raises(J + "corpus_test_poses", "negative seed", lambda: jobs.corpus_test_poses(2, seed=-1), ValueError, "seed"),
    raises(J + "evaluate_variant", "batch as keypoints",
           lambda: jobs.evaluate_variant(TINY, KP, jobs.ABLATION[3], 1), TypeError, "batch must be a SyntheticBatch"),
    raises(J + "evaluate_variant", "variant by name",
           lambda: jobs.evaluate_variant(TINY, BATCH, "no pose prior", 1), TypeError, "variant must be a Variant"),
    raises(J + "evaluate_variant", "negative iterations",
           lambda: jobs.evaluate_variant(TINY, BATCH, jobs.ABLATION[3], -1), ValueError, "iterations"),
    raises(J + "evaluate_variant", "unknown device",
           lambda: jobs.evaluate_variant(TINY, BATCH, jobs.ABLATION[3], 1, device="gpu"), ValueError,
           "device 'gpu' is not a torch device"),
    raises(J + "evaluate_variant", "the meta device",
           lambda: jobs.evaluate_variant(TINY, BATCH, jobs.ABLATION[3], 1, device=META), ValueError, "holds no values"),
    raises(J + "run_ablation", "zero frames", lambda: jobs.run_ablation(num_frames=0), ValueError, "num_frames"),
    raises(J + "run_ablation", "negative iterations", lambda: jobs.run_ablation(iterations=-1), ValueError, "iterations"),
    raises(J + "run_ablation", "negative alone", lambda: jobs.run_ablation(alone=-1), ValueError, "alone"),
    raises(J + "run_ablation", "no variants", lambda: jobs.run_ablation(variants=()), ValueError, "non-empty tuple of Variant"),
    raises(J + "run_ablation", "variants by name", lambda: jobs.run_ablation(variants=("gmm-min",)), ValueError,
           "tuple of Variant"),
    raises(J + "run_ablation", "learned as a string", lambda: jobs.run_ablation(learned="yes"), TypeError, "learned"),
    raises(J + "run_ablation", "unknown device", lambda: jobs.run_ablation(device="gpu"), ValueError, "not a torch device"),
    raises(J + "benchmark", "no batch sizes", lambda: jobs.benchmark(batch_sizes=()), ValueError, "batch_sizes"),
    raises(J + "benchmark", "batch size 0", lambda: jobs.benchmark(batch_sizes=(0, 16)), ValueError, "batch_sizes entry"),
    raises(J + "benchmark", "negative seed", lambda: jobs.benchmark(seed=-2), ValueError, "seed"),
    raises(J + "benchmark", "device as a number", lambda: jobs.benchmark(device=0.5), TypeError, "device must be a str"),
    # ------------------------------------------------------------------ plots
    raises(PL + "draw_mesh_2d", "not an axis", lambda: plots.draw_mesh_2d(None, REST.vertices, FACES, CAM.index(torch.tensor([0]))),
           TypeError, "ax must be a matplotlib axis"),
    raises(PL + "draw_mesh_2d", "vertices (B, V, 2)",
           lambda: plots.draw_mesh_2d(_ax(), REST.vertices[..., :2], FACES, CAM.index(torch.tensor([0]))), ValueError,
           r"vertices must have shape \(B, N, 3\)"),
    raises(PL + "draw_mesh_2d", "float faces",
           lambda: plots.draw_mesh_2d(_ax(), REST.vertices, FACES.float(), CAM.index(torch.tensor([0]))), ValueError,
           "faces must hold integer"),
    raises(PL + "draw_mesh_2d", "face index out of range",
           lambda: plots.draw_mesh_2d(_ax(), REST.vertices, FACES + V, CAM.index(torch.tensor([0]))), ValueError,
           f"the mesh has {V} vertices"),
    raises(PL + "draw_mesh_2d", "two cameras for one mesh", lambda: plots.draw_mesh_2d(_ax(), REST.vertices, FACES, CAM),
           ValueError, "2 cameras for 1 meshes"),
    raises(PL + "draw_mesh_2d", "index -1",
           lambda: plots.draw_mesh_2d(_ax(), REST.vertices, FACES, CAM.index(torch.tensor([0])), index=-1), ValueError,
           "index -1 is out of range"),
    raises(PL + "draw_mesh_2d", "NaN vertices",
           lambda: plots.draw_mesh_2d(_ax(), torch.full_like(REST.vertices, NAN), FACES, CAM.index(torch.tensor([0]))),
           ValueError, r"vertices\[0\] contains"),
    raises(PL + "draw_mesh_2d", "colour by name",
           lambda: plots.draw_mesh_2d(_ax(), REST.vertices, FACES, CAM.index(torch.tensor([0])), color="red"), ValueError,
           "color must be an RGB triple"),
    raises(PL + "draw_mesh_2d", "alpha 2",
           lambda: plots.draw_mesh_2d(_ax(), REST.vertices, FACES, CAM.index(torch.tensor([0])), alpha=2.0), ValueError,
           "alpha must be in"),
    raises(PL + "draw_keypoints", "14 keypoints", lambda: plots.draw_keypoints(_ax(), KP[:, :14], CONF[:, :14]), ValueError,
           r"keypoints must have shape \(B, 24, 2\)"),
    raises(PL + "draw_keypoints", "index past the batch", lambda: plots.draw_keypoints(_ax(), KP, CONF, index=2), ValueError,
           "index 2 is out of range"),
    raises(PL + "draw_keypoints", "NaN observed keypoint",
           lambda: plots.draw_keypoints(_ax(), _with(KP, (0, 1), NAN), CONF), ValueError, "frame 0 hold non-finite"),
    raises(PL + "draw_keypoints", "unknown colour", lambda: plots.draw_keypoints(_ax(), KP, CONF, color="redd"), ValueError,
           "color must be a matplotlib colour"),
    returns(PL + "draw_keypoints", "NaN at a missing joint is not drawn",
            lambda: plots.draw_keypoints(_ax(), _with(KP, (0, 1), NAN), _with(CONF, (0, 1), 0.0)), lambda r: r is None),
    raises(PL + "show_fit", "a frame without keypoints",
           lambda: plots.show_fit(_ax(), REST.vertices.expand(2, V, 3) + torch.tensor([0, 0, 5.0]), FACES, CAM, KP,
                                  _with(CONF, 0, 0.0)), ValueError, "frame 0 has no keypoint"),
    raises(PL + "show_fit", "keypoints of another batch",
           lambda: plots.show_fit(_ax(), REST.vertices + torch.tensor([0, 0, 5.0]), FACES, CAM.index(torch.tensor([0])),
                                  KP, CONF), ValueError, "keypoints hold 2 frames but vertices 1"),
    raises(PL + "show_fit", "negative margin",
           lambda: plots.show_fit(_ax(), REST.vertices.expand(2, V, 3) + torch.tensor([0, 0, 5.0]), FACES, CAM, KP, CONF,
                                  margin=-5.0), ValueError, "margin"),
    returns(PL + "show_fit", "a valid frame draws",
            lambda: plots.show_fit(_ax(), REST.vertices.expand(2, V, 3) + torch.tensor([0, 0, 5.0]), FACES, CAM, KP, CONF,
                                   index=1), lambda r: r is None),
]

_CLI = "registers CLI parsers; the command's bad arguments are swept in tests/commands/test_commands.py"
EXEMPT = {
    "humanlib.fitting.energies.keypoint_energy_unchecked":
        "unchecked by design, for the fit's inner loop whose inputs fit_smplify checked once; keypoint_energy is its checked face",
    "humanlib.fitting.lbfgs.lbfgs_per_frame": "its bad inputs are tested in tests/fitting/test_lbfgs.py::test_bad_inputs",
    "humanlib.fitting.lbfgs.PerFrameResult": "a plain result record filled by lbfgs_per_frame, no inputs of its own",
    "humanlib.fitting.dataset.DatasetFitReport": "bad datasets, settings, ranks and parts are tested in tests/fitting/test_dataset.py",
    "humanlib.fitting.dataset.DatasetFitSettings": "bad datasets, settings, ranks and parts are tested in tests/fitting/test_dataset.py",
    "humanlib.fitting.dataset.Unit": "bad datasets, settings, ranks and parts are tested in tests/fitting/test_dataset.py",
    "humanlib.fitting.dataset.Unit.name": "bad datasets, settings, ranks and parts are tested in tests/fitting/test_dataset.py",
    "humanlib.fitting.dataset.dataset_files": "bad datasets, settings, ranks and parts are tested in tests/fitting/test_dataset.py",
    "humanlib.distributed.distributed_context": "bad datasets, settings, ranks and parts are tested in tests/fitting/test_dataset.py",
    "humanlib.fitting.dataset.fit_dataset": "bad datasets, settings, ranks and parts are tested in tests/fitting/test_dataset.py",
    "humanlib.fitting.dataset.fit_units": "bad datasets, settings, ranks and parts are tested in tests/fitting/test_dataset.py",
    "humanlib.fitting.dataset.merge_parts": "bad datasets, settings, ranks and parts are tested in tests/fitting/test_dataset.py",
    "humanlib.fitting.dataset.split_units": "bad datasets, settings, ranks and parts are tested in tests/fitting/test_dataset.py",
    "humanlib.fitting.dataset.unit_fingerprint": "bad datasets, settings, ranks and parts are tested in tests/fitting/test_dataset.py",
    "humanlib.fitting.dataset.units_of_rank": "bad datasets, settings, ranks and parts are tested in tests/fitting/test_dataset.py",
    "humanlib.fitting.jobs.corpus_poses": "checks its counts as corpus_test_poses, whose cases are here",
    "humanlib.fitting.jobs.fit_alone": "calls evaluate_variant per frame, whose bad inputs are tested here",
    "humanlib.fitting.smplify_config.SMPLifyResult": "result record built by fit_smplify, never from user input",
    EV + "FitErrors": "result record built by fit_errors from checked tensors",
    EV + "FitErrors.summary": "takes no arguments; the record comes from fit_errors, whose inputs are checked",
    EV + "SyntheticBatch": "result record built by make_synthetic_batch, never from user input",
}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input(case):
    run_case(case)


def test_too_many_corpus_frames_is_an_error_not_a_short_batch():
    """Asking for more test-split frames than there are used to return fewer, silently."""
    pytest.importorskip("humanlib.data")
    try:
        from humanlib.data import load_corpus

        available = len(load_corpus("test").poses)
    except (FileNotFoundError, ImportError) as err:
        pytest.skip(f"the corpus is not available ({err})")
    with pytest.raises(ValueError, match=f"holds {available} frames"):
        jobs.corpus_test_poses(available + 1)


# --------------------------------------------------------------------------- properties

_finite = st.floats(-5.0, 5.0, allow_nan=False)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(0, 4), st.floats(0.05, 20.0), st.floats(50.0, 3000.0), st.integers(0, 2**16))
def test_projection_of_points_in_front_is_finite(b, n, z_min, focal, seed):
    g = torch.Generator().manual_seed(seed)
    points = torch.randn(b, n, 3, generator=g)
    points[..., 2] = z_min + points[..., 2].abs()
    uv = cam_mod.project(points, Camera.simple(b, focal, 640, 480))
    assert uv.shape == (b, n, 2) and bool(torch.isfinite(uv).all())


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=4))
def test_projection_of_any_wrong_shape_names_points(shape):
    if len(shape) == 3 and shape[-1] == 3:
        shape[-1] = 4
    with pytest.raises(ValueError, match=r"points must have shape \(B, N, 3\)"):
        cam_mod.project(torch.zeros(shape), CAM)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(3, 12), st.integers(0, 2**16))
def test_procrustes_never_worse_than_no_alignment(b, n, seed):
    """The identity is a similarity transform: the best one is at least as close, and finite."""
    g = torch.Generator().manual_seed(seed)
    source = torch.randn(b, n, 3, generator=g, dtype=torch.float64)
    target = torch.randn(b, n, 3, generator=g, dtype=torch.float64)
    aligned = ev.procrustes_align(source, target)
    assert bool(torch.isfinite(aligned).all())
    assert bool((ev.mean_distance_mm(aligned, target) <= ev.mean_distance_mm(source, target) + 1e-6).all())


_CONFIG_NUMBERS = ["sigma_px", "camera_iterations", "depth_weight", "flip_threshold_px", "min_visible_joints",
                   "lbfgs_history"]


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(_CONFIG_NUMBERS), st.sampled_from([-1, -0.5, NAN, INF, -INF, "3", None, True]))
def test_smplify_config_names_any_bad_number(field, value):
    with pytest.raises((ValueError, TypeError), match=f"SMPLifyConfig.{field}"):
        sm.SMPLifyConfig(**{field: value})


@settings(max_examples=25, deadline=None)
@given(st.lists(_finite, min_size=48, max_size=48), st.floats(1.0, 500.0))
def test_keypoint_energy_is_finite_and_bounded(values, sigma):
    """Finite keypoints, unit confidences: each joint adds at most sigma^2 (the robust bound)."""
    kp = torch.tensor(values, dtype=torch.float64).reshape(1, 24, 2) * 100
    e = en.keypoint_energy(torch.zeros_like(kp), kp, torch.ones(1, 24, dtype=torch.float64), sigma)
    assert bool(torch.isfinite(e).all()) and 0.0 <= float(e[0]) <= 24 * sigma * sigma * (1 + 1e-9)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=4))
def test_fit_names_keypoints_of_any_wrong_shape(shape):
    if len(shape) == 3 and shape[1:] == [24, 2]:
        shape[-1] = 3
    with pytest.raises(ValueError, match=r"keypoints must have shape \(B, 24, 2\)"):
        sm.fit_smplify(TINY, torch.zeros(shape), CONF, CAM, None, CFG)


def test_the_fit_rejects_nan_before_any_work():
    """The check runs before the model is called: a model that would fail is never reached."""
    calls = []

    def model(betas, pose, transl):
        calls.append(1)
        raise AssertionError("the model should not be called")

    with pytest.raises(ValueError, match="non-finite"):
        sm.fit_smplify(model, _with(KP, (0, 0), NAN), CONF, CAM, None, CFG)
    assert not calls
