"""Figures of the SMPLify chapter: a fitted mesh drawn over the 2D keypoints (matplotlib).

The mesh is projected with the fit's camera and painted back to front (painter's
algorithm) with flat Lambert shading, which is enough to judge a fit by eye without a
renderer; keypoints are drawn on top.
"""

from __future__ import annotations

import numpy as np
import torch

from humanlib.fitting.camera import Camera, project
from humanlib.skeleton import PARENTS

#: A colour per role, reused by every figure of the chapter.
KEYPOINT_COLOR = "#d62728"
MESH_COLOR = np.array([0.55, 0.65, 0.85])


def draw_mesh_2d(ax, vertices: torch.Tensor, faces: torch.Tensor, camera: Camera, index: int = 0,
                 color: np.ndarray = MESH_COLOR, alpha: float = 0.85) -> None:
    """Draw one projected, shaded mesh on a matplotlib axis (image coordinates, y down).

    Args:
        ax: matplotlib axis.
        vertices: ``(B, V, 3)`` camera-frame vertices.
        faces: ``(F, 3)`` triangle indices.
        camera: the ``B`` cameras.
        index: which body of the batch to draw.
        color: RGB base colour.
        alpha: face opacity.
    """
    from matplotlib.collections import PolyCollection

    v = vertices[index : index + 1].detach().cpu().float()
    uv = project(v, camera.index(torch.tensor([index])).to("cpu", torch.float32))[0].numpy()
    v = v[0].numpy()
    f = faces.cpu().numpy()
    tri = v[f]  # (F, 3, 3)
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True) + 1e-12
    centre = tri.mean(1)
    view = -centre / (np.linalg.norm(centre, axis=-1, keepdims=True) + 1e-12)
    shade = np.abs((normal * view).sum(-1))  # two-sided lighting from the camera
    order = np.argsort(-centre[:, 2])  # far faces first
    colors = np.clip(color[None] * (0.35 + 0.65 * shade[order, None]), 0, 1)
    polys = PolyCollection(uv[f[order]], facecolors=colors, edgecolors="none", alpha=alpha)
    ax.add_collection(polys)


def draw_keypoints(ax, keypoints: torch.Tensor, confidence: torch.Tensor, index: int = 0,
                   color: str = KEYPOINT_COLOR, label: str | None = "keypoints") -> None:
    """Observed keypoints of one frame (confidence > 0) as dots linked along the SMPL tree."""
    kp = keypoints[index].detach().cpu().numpy()
    seen = (confidence[index] > 0).cpu().numpy()
    for j, p in enumerate(PARENTS):
        if p >= 0 and seen[j] and seen[p]:
            ax.plot(kp[[p, j], 0], kp[[p, j], 1], color=color, lw=1.0, alpha=0.8)
    ax.scatter(kp[seen, 0], kp[seen, 1], s=12, color=color, zorder=3, label=label)


def show_fit(ax, vertices: torch.Tensor, faces: torch.Tensor, camera: Camera, keypoints: torch.Tensor,
             confidence: torch.Tensor, index: int = 0, title: str = "", margin: float = 40.0) -> None:
    """A fitted mesh with the keypoints it was fitted to, cropped around the keypoints."""
    draw_mesh_2d(ax, vertices, faces, camera, index)
    draw_keypoints(ax, keypoints, confidence, index)
    seen = confidence[index] > 0
    kp = keypoints[index][seen].detach().cpu().numpy()
    lo, hi = kp.min(0) - margin, kp.max(0) + margin
    side = float((hi - lo).max())
    mid = (lo + hi) / 2
    ax.set_xlim(mid[0] - side / 2, mid[0] + side / 2)
    ax.set_ylim(mid[1] + side / 2, mid[1] - side / 2)  # image y points down
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


__all__ = ["draw_keypoints", "draw_mesh_2d", "show_fit"]
