r"""``E_c``, SMPLify-X's collision term, in plain torch (CPU and GPU, batched).

SMPLify-X penalises self-intersections of the posed mesh (a hand through the torso, crossed legs)
in two steps, each a function here:

1. **Find the intersecting triangle pairs** (no gradient). A *broad phase*
   (:func:`candidate_pairs`) puts each triangle's axis-aligned bounding box into the cells of a
   uniform grid that it overlaps (cell edge: the median box extent), sorts the (cell, triangle)
   entries by cell and pairs the triangles of each cell; a pair is kept once, in the cell of the
   lowest corner of the two boxes' overlap, and only if the boxes overlap. Pairs of triangles that
   share a vertex touch by construction and are dropped; optionally so are pairs on the same body
   part (``face_parts``). The *narrow phase* (:func:`triangles_intersect`) keeps the pairs where an
   edge of one triangle crosses the other (six segment-triangle tests, Möller-Trumbore); exactly
   coplanar overlaps are not counted. :func:`intersecting_pairs` runs both.
2. **Penalise them** (:func:`penetration_field`, :func:`collision_energy`). SMPLify-X, after
   Tzionas et al. (IJCV 2016) and Ballan et al. (ECCV 2012), gives each triangle ``f`` of a pair a
   3D distance field :math:`\Psi_f` on the inner side of ``f`` and penalises the vertices of the
   other triangle that fall in it. Here the field lives in the column under the triangle's
   circumcircle (centre :math:`c`, radius :math:`r`, outward unit normal :math:`n`) down to a depth
   :math:`\sigma r`. For a point :math:`p` at depth :math:`h = -(p - c)\cdot n` and at distance
   :math:`\rho` from the column's axis,

   .. math:: \Psi_f(p) = h \, \max\bigl(0,\ 1 - \rho / r\bigr) \quad (0 < h \le \sigma r),
             \qquad 0 \text{ otherwise},

   a penetration depth (metres) that falls off linearly (a cone) from the axis to the circle. For
   intersecting triangles :math:`(f_s, f_t)`

   .. math:: E_c = \sum_{(f_s, f_t)} \sum_{v \in f_s} \Psi_{f_t}(v)^2 + \sum_{v \in f_t} \Psi_{f_s}(v)^2,

   the squared norm of SMPLify-X's :math:`-\Psi_{f_t}(v_s)\, n_s` with unit normals. Its gradient
   moves each intruding vertex back out through the surface it crossed (and sideways, out of the
   column), and the receiving triangle away from it; it is continuous where a vertex crosses the
   surface (:math:`\Psi = 0` at :math:`h = 0`).

What differs from SMPLify-X's CUDA extension (``mesh_intersection``, read for its protocol only):
the broad phase is a uniform grid instead of a BVH; the narrow phase ignores exactly coplanar
overlaps; the field is zero in front of a triangle (SMPLify-X can also penalise points in front,
``penalize_outside``); and the field is this simpler one, a depth weighted by a cone-shaped
lateral profile: SMPLify-X's field is a cone in 3D (its value falls from the triangle towards an
apex inside the body), whose gradient along the depth alone would not push a point back out. The mesh's
triangles must be wound so that their normals point outwards (the open models' are: pinned by a
test).
"""

from __future__ import annotations

import torch

from humanlib._validate import check_positive, check_tensor


def _check_mesh(vertices: object, faces: object) -> tuple[torch.Tensor, torch.Tensor]:
    vertices = check_tensor(vertices, "vertices", (None, None, 3), hint="(B bodies, V vertices, xyz)")
    faces = check_tensor(faces, "faces", (None, 3), floating=False, finite=False, hint="(F triangles, 3 vertex ids)")
    if faces.dtype not in (torch.int32, torch.int64):
        raise ValueError(f"faces must hold vertex indices (int32 or int64); got dtype {faces.dtype}")
    if faces.device != vertices.device:
        raise ValueError(f"faces are on {faces.device} but vertices on {vertices.device}; move one of them")
    if faces.numel() and (int(faces.min()) < 0 or int(faces.max()) >= vertices.shape[1]):
        raise ValueError(f"faces index vertices in [{int(faces.min())}, {int(faces.max())}] "
                         f"but vertices has {vertices.shape[1]} per body")
    return vertices, faces.long()


def _check_pairs(pairs: object, batch: int, num_faces: int) -> torch.Tensor:
    pairs = check_tensor(pairs, "pairs", (None, 3), floating=False, finite=False,
                         hint="(P, 3) rows (body, triangle s, triangle t), as intersecting_pairs returns")
    if pairs.dtype != torch.int64:
        raise ValueError(f"pairs must be int64 (body, triangle, triangle) rows; got dtype {pairs.dtype}")
    if pairs.numel() and (int(pairs[:, 0].min()) < 0 or int(pairs[:, 0].max()) >= batch
                          or int(pairs[:, 1:].min()) < 0 or int(pairs[:, 1:].max()) >= num_faces):
        raise ValueError(f"pairs index bodies outside [0, {batch}) or triangles outside [0, {num_faces})")
    return pairs


def candidate_pairs(
    vertices: torch.Tensor, faces: torch.Tensor, cell_size: float | None = None, exclude_adjacent: bool = True,
) -> torch.Tensor:
    """Broad phase: the triangle pairs whose bounding boxes overlap (see the module docstring).

    Args:
        vertices: (B, V, 3) meshes.
        faces: (F, 3) triangles (vertex indices), shared by the batch.
        cell_size: the grid's cell edge in the vertices' unit; None: the median largest extent of
            the triangles' boxes (the batch's), which keeps few triangles per cell.
        exclude_adjacent: drop pairs that share a vertex.

    Returns:
        (P, 3) int64 rows ``(body, s, t)`` with ``s < t``, sorted; no gradient.

    Raises:
        TypeError / ValueError: wrong shapes or dtypes, faces out of range, a non-positive ``cell_size``.
    """
    vertices, faces = _check_mesh(vertices, faces)
    if cell_size is not None:
        check_positive(cell_size, "cell_size")
    return _candidate_pairs(vertices.detach(), faces, cell_size, exclude_adjacent)


# Grid entries handled at once: the within-cell pairs (about 3x the entries on the open mesh) of a larger
# block spill out of the CPU's caches and cost more per pair; a GPU wants large blocks.
_ENTRIES_PER_BLOCK = {"cpu": 500_000}
_GPU_ENTRIES_PER_BLOCK = 20_000_000


def _candidate_pairs(vertices, faces, cell_size, exclude_adjacent):
    """The pairs of each body (bodies in blocks of a bounded number of grid entries)."""
    B, F = vertices.shape[0], faces.shape[0]
    per_block = _ENTRIES_PER_BLOCK.get(vertices.device.type, _GPU_ENTRIES_PER_BLOCK)
    step = max(1, per_block // max(1, 12 * F))  # about 12 entries per triangle at most, as on the open mesh
    if B <= step:
        return _candidate_pairs_block(vertices, faces, cell_size, exclude_adjacent)
    blocks = []
    for start in range(0, B, step):
        pairs = _candidate_pairs_block(vertices[start:start + step], faces, cell_size, exclude_adjacent)
        blocks.append(pairs + torch.tensor([start, 0, 0], device=pairs.device))
    return torch.cat(blocks)


def _candidate_pairs_block(vertices, faces, cell_size, exclude_adjacent):
    B, F = vertices.shape[0], faces.shape[0]
    device = vertices.device
    empty = torch.zeros(0, 3, dtype=torch.long, device=device)
    if B == 0 or F < 2:
        return empty
    tri = vertices[:, faces]  # (B, F, 3 corners, 3)
    lo, hi = tri.amin(2), tri.amax(2)
    if cell_size is None:
        cell_size = float((hi - lo).amax(-1).median().clamp_min(1e-12))
    origin = lo.amin(1, keepdim=True)
    ilo = torch.floor((lo - origin) / cell_size).long().reshape(B * F, 3)
    ihi = torch.floor((hi - origin) / cell_size).long().reshape(B * F, 3)
    span = ihi - ilo + 1
    grid = int(ihi.max()) + 2
    count = span.prod(-1)
    owner = torch.repeat_interleave(torch.arange(B * F, device=device), count)
    start = torch.cumsum(count, 0) - count
    k = torch.arange(owner.numel(), device=device) - start[owner]
    sx, sy = span[owner, 0], span[owner, 1]
    step = torch.stack((k % sx, (k // sx) % sy, k // (sx * sy)), -1)
    cells = ilo[owner] + step
    # bit i: this cell is the lowest one of the entry's triangle along axis i
    lowest = ((step == 0).to(torch.uint8) * torch.tensor([1, 2, 4], dtype=torch.uint8, device=device)).sum(-1)
    key = ((owner // F) * grid + cells[:, 0]) * grid ** 2 + cells[:, 1] * grid + cells[:, 2]
    key, order = torch.sort(key, stable=True)
    owner, lowest = owner[order], lowest[order].to(torch.uint8)
    # pair every entry with the later entries of its cell
    _, group_size = torch.unique_consecutive(key, return_counts=True)
    group_end = torch.repeat_interleave(torch.cumsum(group_size, 0), group_size)
    partners = group_end - torch.arange(key.numel(), device=device) - 1
    first = torch.repeat_interleave(torch.arange(key.numel(), device=device), partners)
    offset = torch.arange(first.numel(), device=device) - (torch.cumsum(partners, 0) - partners)[first]
    second = first + 1 + offset
    # once per pair: in the lowest cell of the overlap of the two cell ranges, i.e. the cell that is,
    # along every axis, the lowest of one triangle or the other (both triangles lie in it)
    keep = (lowest[first] | lowest[second]) == 7
    a, b = owner[first[keep]], owner[second[keep]]
    lo_f, hi_f = lo.reshape(B * F, 3), hi.reshape(B * F, 3)
    overlap = (torch.maximum(lo_f[a], lo_f[b]) <= torch.minimum(hi_f[a], hi_f[b])).all(-1)
    a, b = a[overlap], b[overlap]
    body, s, t = a // F, torch.minimum(a, b) % F, torch.maximum(a, b) % F
    if exclude_adjacent:
        shared = (faces[s][:, :, None] == faces[t][:, None, :]).flatten(1).any(-1)
        body, s, t = body[~shared], s[~shared], t[~shared]
    pairs = torch.stack((body, s, t), -1)
    if pairs.numel() == 0:
        return empty
    order = torch.argsort((pairs[:, 0] * F + pairs[:, 1]) * F + pairs[:, 2])
    return pairs[order]


def _segment_hits_triangle(p0, p1, v0, v1, v2, eps=1e-12):
    """(N,) whether segments p0-p1 cross triangles (v0, v1, v2) (Möller-Trumbore; parallel: no)."""
    e1, e2, d = v1 - v0, v2 - v0, p1 - p0
    h = torch.cross(d, e2, dim=-1)
    a = (e1 * h).sum(-1)
    ok = a.abs() > eps
    f = 1.0 / torch.where(ok, a, torch.ones_like(a))
    s = p0 - v0
    u = f * (s * h).sum(-1)
    q = torch.cross(s, e1, dim=-1)
    w = f * (d * q).sum(-1)
    t = f * (e2 * q).sum(-1)
    return ok & (u >= 0) & (w >= 0) & (u + w <= 1) & (t >= 0) & (t <= 1)


def triangles_intersect(tri_a: torch.Tensor, tri_b: torch.Tensor) -> torch.Tensor:
    """Narrow phase: whether each pair of triangles intersects (an edge of one crosses the other).

    Args:
        tri_a, tri_b: (N, 3, 3) triangles (corner, xyz).

    Returns:
        (N,) bool. Exactly coplanar overlapping triangles count as not intersecting.

    Raises:
        TypeError / ValueError: not (N, 3, 3) float tensors of equal N.
    """
    check_tensor(tri_a, "tri_a", (None, 3, 3), finite=False)
    check_tensor(tri_b, "tri_b", (tri_a.shape[0], 3, 3), finite=False, hint="(as many triangles as tri_a)")
    return _triangles_intersect(tri_a, tri_b)


def _triangles_intersect(tri_a, tri_b):
    hit = torch.zeros(tri_a.shape[0], dtype=torch.bool, device=tri_a.device)
    for edges, other in ((tri_a, tri_b), (tri_b, tri_a)):
        v0, v1, v2 = other.unbind(1)
        for i, j in ((0, 1), (1, 2), (2, 0)):
            hit |= _segment_hits_triangle(edges[:, i], edges[:, j], v0, v1, v2)
    return hit


def intersecting_pairs(
    vertices: torch.Tensor, faces: torch.Tensor, face_parts: torch.Tensor | None = None, cell_size: float | None = None,
) -> torch.Tensor:
    """The intersecting triangle pairs of each mesh (broad then narrow phase); no gradient.

    Args:
        vertices: (B, V, 3) meshes.
        faces: (F, 3) triangles.
        face_parts: optional (F,) integer body part of each triangle (e.g. :func:`face_parts`);
            pairs on the same part are dropped.
        cell_size: see :func:`candidate_pairs`.

    Returns:
        (P, 3) int64 rows ``(body, s, t)``, ``s < t``; pairs sharing a vertex are never included.

    Raises:
        TypeError / ValueError: see :func:`candidate_pairs`; ``face_parts`` not (F,) integers.
    """
    vertices, faces = _check_mesh(vertices, faces)
    if face_parts is not None:
        check_tensor(face_parts, "face_parts", (faces.shape[0],), floating=False, finite=False,
                     hint="(one body part per triangle)")
        if face_parts.is_floating_point() or face_parts.dtype == torch.bool:
            raise ValueError(f"face_parts must hold integer part labels; got dtype {face_parts.dtype}")
    if cell_size is not None:
        check_positive(cell_size, "cell_size")
    with torch.no_grad():
        pairs = _candidate_pairs(vertices.detach(), faces, cell_size, True)
        if face_parts is not None:
            parts = face_parts.to(pairs.device)
            pairs = pairs[parts[pairs[:, 1]] != parts[pairs[:, 2]]]
        tri = vertices.detach()[:, faces]
        hit = _triangles_intersect(tri[pairs[:, 0], pairs[:, 1]], tri[pairs[:, 0], pairs[:, 2]])
    return pairs[hit]


#: SMPL-X joints whose triangles count as the head's (jaw 22, eyes 23-24): the eyeballs sit in the
#: eyelids, so on the open mesh they cross the head's triangles in the rest pose.
SMPLX_HEAD_PARTS = {22: 15, 23: 15, 24: 15}


def face_parts(weights: torch.Tensor, faces: torch.Tensor, merge: dict[int, int] | None = None) -> torch.Tensor:
    """Each triangle's body part: the joint with the largest skinning weight summed over its corners.

    Args:
        weights: (V, J) skinning weights (``model.weights``).
        faces: (F, 3) triangles.
        merge: joint -> the joint whose part it joins (e.g. :data:`SMPLX_HEAD_PARTS`).

    Returns:
        (F,) int64 joint index.

    Raises:
        TypeError / ValueError: wrong shapes, faces out of range, ``merge`` not a dict of joints.
    """
    check_tensor(weights, "weights", (None, None), hint="(V vertices, J joints), e.g. model.weights")
    _, faces = _check_mesh(weights.new_zeros(1, weights.shape[0], 3), faces)
    parts = weights[faces].sum(1).argmax(-1)
    if merge is not None:
        if not isinstance(merge, dict) or not all(
                isinstance(k, int) and isinstance(v, int) and 0 <= k < weights.shape[1] and 0 <= v < weights.shape[1]
                for k, v in merge.items()):
            raise TypeError(f"merge must be a dict of joint index -> joint index in [0, {weights.shape[1]}); got {merge!r}")
        table = torch.arange(weights.shape[1], device=parts.device)
        for k, v in merge.items():
            table[k] = v
        parts = table[parts]
    return parts


def _circumcircle(tri: torch.Tensor):
    """Circumcentre (N, 3), circumradius (N,) and unit normal (N, 3) of triangles (N, 3, 3)."""
    a, b, c = tri.unbind(-2)
    ab, ac = b - a, c - a
    n = torch.cross(ab, ac, dim=-1)
    n2 = (n * n).sum(-1, keepdim=True).clamp_min(1e-30)  # degenerate triangles: a huge circle, see below
    offset = (torch.cross(n, ab, dim=-1) * (ac * ac).sum(-1, keepdim=True)
              + torch.cross(ac, n, dim=-1) * (ab * ab).sum(-1, keepdim=True)) / (2 * n2)
    return a + offset, offset.norm(dim=-1), n / n2.sqrt()


def penetration_field(points: torch.Tensor, triangles: torch.Tensor, sigma: float = 2.0) -> torch.Tensor:
    r"""The penetration field :math:`\Psi_f(p)` of each triangle at points (see the module docstring).

    Args:
        points: (N, M, 3) M points per triangle.
        triangles: (N, 3, 3) triangles (outward winding).
        sigma: the field's depth in circumradii.

    Returns:
        (N, M) values >= 0 (the points' unit, e.g. metres): 0 in front of the triangle, outside its
        circumcircle's column or deeper than ``sigma`` circumradii; differentiable in both inputs.

    Raises:
        TypeError / ValueError: wrong shapes, a non-positive ``sigma``.
    """
    check_tensor(triangles, "triangles", (None, 3, 3))
    check_tensor(points, "points", (triangles.shape[0], None, 3), hint="(M points for each of the N triangles)")
    check_positive(sigma, "sigma")
    return _penetration_field(points, triangles, sigma)


def _penetration_field(points, triangles, sigma):
    centre, radius, normal = _circumcircle(triangles)
    rel = points - centre[:, None]
    depth = -(rel * normal[:, None]).sum(-1)  # h > 0 behind the triangle
    radial = rel + depth[..., None] * normal[:, None]
    rho = torch.sqrt((radial * radial).sum(-1) + 1e-18)  # safe: the gradient of |x| at 0 is NaN
    r = radius[:, None]
    inside = (depth > 0) & (depth <= sigma * r)
    return torch.where(inside, depth * torch.relu(1 - rho / r), torch.zeros_like(rho))


def collision_energy(
    vertices: torch.Tensor, faces: torch.Tensor, pairs: torch.Tensor | None = None, sigma: float = 2.0,
    face_parts: torch.Tensor | None = None,
) -> torch.Tensor:
    r""":math:`E_c` per body (see the module docstring).

    Args:
        vertices: (B, V, 3) posed meshes (differentiable).
        faces: (F, 3) triangles, outward winding.
        pairs: (P, 3) intersecting pairs from :func:`intersecting_pairs`; None finds them here (a
            fit can reuse one search for a few steps).
        sigma: the fields' depth in circumradii.
        face_parts: see :func:`intersecting_pairs` (used only when ``pairs`` is None).

    Returns:
        (B,) energy (squared length units, m² on the open models), 0 for a body without intersections.

    Raises:
        TypeError / ValueError: see :func:`intersecting_pairs`; ``pairs`` out of range.
    """
    vertices, faces = _check_mesh(vertices, faces)
    check_positive(sigma, "sigma")
    if pairs is None:
        pairs = intersecting_pairs(vertices, faces, face_parts)
    else:
        pairs = _check_pairs(pairs, vertices.shape[0], faces.shape[0]).to(vertices.device)
    return _collision_energy(vertices, faces, pairs, sigma)


def _collision_energy(vertices, faces, pairs, sigma):
    body, s, t = pairs.unbind(-1)
    tri_s, tri_t = vertices[body[:, None], faces[s]], vertices[body[:, None], faces[t]]
    psi = torch.cat((_penetration_field(tri_s, tri_t, sigma), _penetration_field(tri_t, tri_s, sigma)), -1)
    energy = vertices.new_zeros(vertices.shape[0])
    return energy.index_add(0, body, (psi * psi).sum(-1))
