"""humanlib.data.retarget's numpy forward kinematics against the one torch version of humanlib.body."""

from __future__ import annotations

import numpy as np
import torch

from humanlib.body import SkeletonJoints, forward_kinematics, load_body_model
from humanlib.data import retarget
from humanlib.rotations import axis_angle_to_rotmat
from humanlib.skeleton import NUM_JOINTS, PARENTS


def test_numpy_forward_kinematics_matches_body_forward_kinematics():
    g = torch.Generator().manual_seed(0)
    pose = torch.randn(5, NUM_JOINTS, 3, generator=g, dtype=torch.float64) * 0.6
    rest = torch.randn(NUM_JOINTS, 3, generator=g, dtype=torch.float64) * 0.3
    transl = torch.randn(5, 3, generator=g, dtype=torch.float64)
    rotmats = axis_angle_to_rotmat(pose)
    global_np, joints_np = retarget.smpl_forward_kinematics(rotmats.numpy(), rest.numpy(), transl.numpy())
    joints, transforms = forward_kinematics(rotmats, rest.expand(5, -1, -1), tuple(PARENTS))
    np.testing.assert_allclose(joints_np, (joints + transl[:, None]).numpy(), atol=1e-10)
    np.testing.assert_allclose(global_np, transforms[..., :3, :3].numpy(), atol=1e-10)


def test_skeleton_joints_are_the_body_models_joints():
    """The skeleton-only path gives the joints of the full model (pose blend shapes move vertices only)."""
    model = load_body_model()
    g = torch.Generator().manual_seed(1)
    betas = torch.randn(3, model.num_betas, generator=g)
    pose = torch.randn(3, NUM_JOINTS, 3, generator=g) * 0.4
    transl = torch.randn(3, 3, generator=g)
    full = model(betas=betas, pose=pose, transl=transl).joints
    torch.testing.assert_close(SkeletonJoints(model)(betas, pose, transl), full, atol=1e-5, rtol=1e-5)
    rest = SkeletonJoints(model).rest_joints(betas)[0].double().numpy()
    _, joints_np = retarget.smpl_forward_kinematics(axis_angle_to_rotmat(pose[:1].double()).numpy(), rest,
                                                     transl[:1].double().numpy())
    np.testing.assert_allclose(joints_np, full[:1].double().numpy(), atol=1e-4)
