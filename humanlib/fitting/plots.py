"""Figures of the SMPLify chapter: a fitted mesh drawn over the 2D keypoints (matplotlib).

The mesh is projected with the fit's camera and painted back to front (painter's
algorithm) with flat Lambert shading, which is enough to judge a fit by eye without a
renderer; keypoints are drawn on top.
"""

from __future__ import annotations

import numpy as np
import torch

from humanlib._validate import check_positive, check_same_device, check_tensor
from humanlib.fitting.camera import Camera, check_camera, project
from humanlib.skeleton import NUM_JOINTS, PARENTS

#: A colour per role, reused by every figure of the chapter.
KEYPOINT_COLOR = "#d62728"
MESH_COLOR = np.array([0.55, 0.65, 0.85])


def _check_ax(ax: object) -> None:
    if not all(hasattr(ax, name) for name in ("add_collection", "plot", "scatter")):
        raise TypeError(f"ax must be a matplotlib axis (e.g. plt.subplots()[1]); got {type(ax).__name__}")


def _check_index(index: object, batch: int, what: str) -> None:
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"index must be an int (which {what} of the batch); got {type(index).__name__}")
    if not 0 <= index < batch:
        raise ValueError(f"index {index} is out of range for a batch of {batch} {what}s; use 0..{batch - 1}")


def _check_mesh(vertices: torch.Tensor, faces: torch.Tensor, camera: Camera, index: int,
                color: object, alpha: float) -> None:
    check_tensor(vertices, "vertices", (None, None, 3), nonempty=True, finite=False,
                 hint="Camera-frame vertices of a batch of meshes.")
    check_tensor(faces, "faces", (None, 3), floating=False, finite=False, hint="Triangle vertex indices.")
    if faces.is_floating_point() or faces.is_complex() or faces.dtype == torch.bool:
        raise ValueError(f"faces must hold integer vertex indices; got dtype {faces.dtype}")
    check_camera(camera, vertices.shape[0], "meshes")
    _check_index(index, vertices.shape[0], "body")
    check_tensor(vertices[index], f"vertices[{index}]")
    v = vertices.shape[1]
    if faces.numel() and (int(faces.min()) < 0 or int(faces.max()) >= v):
        raise ValueError(f"faces index vertices in [{int(faces.min())}, {int(faces.max())}] but the mesh has {v} vertices")
    rgb = np.asarray(color, dtype=float) if isinstance(color, (np.ndarray, list, tuple)) else None
    if rgb is None or rgb.shape != (3,) or not np.all((rgb >= 0) & (rgb <= 1)):
        raise ValueError(f"color must be an RGB triple in [0, 1]; got {color!r}")
    check_positive(alpha, "alpha", allow_zero=True)
    if alpha > 1:
        raise ValueError(f"alpha must be in [0, 1]; got {alpha}")


def _check_keypoints_frame(keypoints: torch.Tensor, confidence: torch.Tensor, index: int) -> None:
    check_tensor(keypoints, "keypoints", (None, NUM_JOINTS, 2), finite=False, hint="Pixels, one row per SMPL joint.")
    check_tensor(confidence, "confidence", (keypoints.shape[0], NUM_JOINTS), finite=False, hint="One weight per keypoint.")
    check_same_device(keypoints, "keypoints", confidence=confidence)
    check_tensor(confidence, "confidence")
    _check_index(index, keypoints.shape[0], "frame")
    seen = confidence[index] > 0
    if not bool(torch.isfinite(keypoints[index][seen]).all()):
        raise ValueError(f"keypoints of frame {index} hold non-finite values at joints with positive confidence")


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

    Raises:
        TypeError, ValueError: ``ax`` not an axis, wrong shapes or dtypes, face indices out of
            range, non-finite vertices of the drawn body, a camera batch that does not match,
            ``index`` out of range, a bad colour or opacity.
    """
    _check_ax(ax)
    _check_mesh(vertices, faces, camera, index, color, alpha)
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
    """Observed keypoints of one frame (confidence > 0) as dots linked along the SMPL tree.

    Args:
        ax: matplotlib axis.
        keypoints: ``(B, 24, 2)`` pixels.
        confidence: ``(B, 24)`` weights (0 = not drawn).
        index: which frame to draw.
        color: matplotlib colour.
        label: legend label.

    Raises:
        TypeError, ValueError: ``ax`` not an axis, wrong shapes, ``index`` out of range, non-finite
            keypoints with positive confidence, an unknown colour.
    """
    _check_ax(ax)
    _check_keypoints_frame(keypoints, confidence, index)
    from matplotlib.colors import is_color_like

    if not is_color_like(color):
        raise ValueError(f"color must be a matplotlib colour ('red', '#d62728', an RGB triple); got {color!r}")
    if label is not None and not isinstance(label, str):
        raise TypeError(f"label must be a str or None; got {type(label).__name__}")
    kp = keypoints[index].detach().cpu().numpy()
    seen = (confidence[index] > 0).cpu().numpy()
    for j, p in enumerate(PARENTS):
        if p >= 0 and seen[j] and seen[p]:
            ax.plot(kp[[p, j], 0], kp[[p, j], 1], color=color, lw=1.0, alpha=0.8)
    ax.scatter(kp[seen, 0], kp[seen, 1], s=12, color=color, zorder=3, label=label)


def show_fit(ax, vertices: torch.Tensor, faces: torch.Tensor, camera: Camera, keypoints: torch.Tensor,
             confidence: torch.Tensor, index: int = 0, title: str = "", margin: float = 40.0) -> None:
    """A fitted mesh with the keypoints it was fitted to, cropped around the keypoints.

    Raises:
        TypeError, ValueError: as :func:`draw_mesh_2d` and :func:`draw_keypoints`; keypoints of
            another batch than the vertices, a frame with no keypoint of positive confidence, a
            negative ``margin``.
    """
    _check_ax(ax)
    _check_mesh(vertices, faces, camera, index, MESH_COLOR, 0.85)
    _check_keypoints_frame(keypoints, confidence, index)
    if keypoints.shape[0] != vertices.shape[0]:
        raise ValueError(f"keypoints hold {keypoints.shape[0]} frames but vertices {vertices.shape[0]} bodies")
    if not bool((confidence[index] > 0).any()):
        raise ValueError(f"frame {index} has no keypoint with positive confidence: nothing to crop the view around")
    check_positive(margin, "margin", allow_zero=True)
    if not isinstance(title, str):
        raise TypeError(f"title must be a str; got {type(title).__name__}")
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
