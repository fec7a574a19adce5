"""E_c, SMPLify-X's collision term: broad phase against brute force, the cone field, gradients, the open mesh."""

import pytest
import torch

from humanlib.body import load_body_model, open_smplx_model_file
from humanlib.bodybuild_smplx import SMPLX_JOINT_NAMES
from humanlib.fitting import collision as C


def sphere(subdivisions=2, centre=(0.0, 0.0, 0.0), radius=1.0, dtype=torch.float64):
    """An icosphere-like mesh (subdivided octahedron), outward winding: (V, 3), (F, 3)."""
    v = [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)]
    f = [(0, 2, 4), (2, 1, 4), (1, 3, 4), (3, 0, 4), (2, 0, 5), (1, 2, 5), (3, 1, 5), (0, 3, 5)]
    verts = [torch.tensor(p, dtype=dtype) for p in v]
    for _ in range(subdivisions):
        mid, new_f = {}, []

        def m(a, b):
            key = (min(a, b), max(a, b))
            if key not in mid:
                verts.append((verts[a] + verts[b]) / 2)
                mid[key] = len(verts) - 1
            return mid[key]

        for a, b, c in f:
            ab, bc, ca = m(a, b), m(b, c), m(c, a)
            new_f += [(a, ab, ca), (ab, b, bc), (ca, bc, c), (ab, bc, ca)]
        f = new_f
    V = torch.stack(verts)
    V = V / V.norm(dim=-1, keepdim=True) * radius + torch.tensor(centre, dtype=dtype)
    return V, torch.tensor(f)


def two_spheres(distance=1.5, subdivisions=2):
    va, fa = sphere(subdivisions)
    vb, fb = sphere(subdivisions, centre=(distance, 0.1, 0.05))
    return torch.cat((va, vb))[None], torch.cat((fa, fb + len(va))), len(fa)


def brute_force(vertices, faces, narrow):
    out = []
    F = len(faces)
    s, t = torch.triu_indices(F, F, 1)
    shared = (faces[s][:, :, None] == faces[t][:, None, :]).flatten(1).any(-1)
    s, t = s[~shared], t[~shared]
    for b in range(vertices.shape[0]):
        tri = vertices[b][faces]
        lo, hi = tri.amin(1), tri.amax(1)
        keep = (torch.maximum(lo[s], lo[t]) <= torch.minimum(hi[s], hi[t])).all(-1)
        if narrow:
            keep &= C.triangles_intersect(tri[s], tri[t])
        out += [(b, int(i), int(j)) for i, j in zip(s[keep], t[keep])]
    return sorted(out)


def test_outward_winding_of_the_test_sphere_and_the_open_mesh():
    v, f = sphere()
    tri = v[f]
    assert float((tri[:, 0] * torch.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0], dim=-1)).sum()) > 0
    model = load_body_model(open_smplx_model_file(), layout="native")
    tri = model.v_template[model.faces]
    assert float((tri[:, 0] * torch.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0], dim=-1)).sum()) > 0


@pytest.mark.parametrize("cell_size", [None, 0.05, 0.4, 3.0])
def test_broad_phase_equals_brute_force(cell_size):
    v, f, _ = two_spheres()
    v = torch.cat((v, v + 0.01 * torch.randn(v.shape, generator=torch.Generator().manual_seed(0), dtype=v.dtype)))
    got = [tuple(r) for r in C.candidate_pairs(v, f, cell_size=cell_size).tolist()]
    assert got == brute_force(v, f, narrow=False)
    got = [tuple(r) for r in C.intersecting_pairs(v, f, cell_size=cell_size).tolist()]
    assert got == brute_force(v, f, narrow=True) and len(got) > 0


def test_separate_spheres_have_no_pairs_and_zero_energy():
    v, f, n = two_spheres(distance=2.5)
    assert C.intersecting_pairs(v, f).shape == (0, 3)
    assert float(C.collision_energy(v, f)) == 0.0
    v, f, n = two_spheres()
    pairs = C.intersecting_pairs(v, f)
    assert ((pairs[:, 1] < n) & (pairs[:, 2] >= n)).all()  # only between the two spheres
    assert C.intersecting_pairs(v, f, face_parts=torch.zeros(len(f), dtype=torch.long)).shape == (0, 3)  # one part


def test_triangles_intersect_simple_cases():
    a = torch.tensor([[[0.0, 0, 0], [1, 0, 0], [0, 1, 0]]])
    crossing = torch.tensor([[[0.2, 0.2, -1], [0.2, 0.2, 1], [0.3, 0.5, 1]]])
    above = crossing + torch.tensor([0, 0, 1.5])
    beside = crossing + torch.tensor([2.0, 0, 0])
    assert C.triangles_intersect(a, crossing).tolist() == [True]
    assert C.triangles_intersect(crossing, a).tolist() == [True]
    assert C.triangles_intersect(a, above).tolist() == [False]
    assert C.triangles_intersect(a, beside).tolist() == [False]


def test_penetration_field_values():
    tri = torch.tensor([[[1.0, 0, 0], [-0.5, 0.866025, 0], [-0.5, -0.866025, 0]]], dtype=torch.float64)  # r = 1, n = +z
    pts = torch.tensor([[[0, 0, -0.25], [0, 0, 0.25], [1.1, 0, -0.25], [0.5, 0, -0.5], [0, 0, -2.5]]],
                       dtype=torch.float64)
    psi = C.penetration_field(pts, tri, sigma=2.0)[0]
    assert abs(float(psi[0]) - 0.25) < 1e-6  # on the axis: the depth
    assert psi[1] == 0.0 and psi[2] == 0.0 and psi[4] == 0.0  # in front, outside the circle, too deep
    assert abs(float(psi[3]) - 0.25) < 1e-5  # depth 0.5, half way to the circle


def test_gradient_matches_finite_differences_and_pushes_the_spheres_apart():
    v, f, n = two_spheres(distance=1.6, subdivisions=2)
    pairs = C.intersecting_pairs(v, f)
    v = v.clone().requires_grad_(True)

    def energy(x):
        return C.collision_energy(x, f, pairs, sigma=2.0).sum()

    e = energy(v)
    assert float(e.detach()) > 0
    assert torch.autograd.gradcheck(energy, (v,), eps=1e-7, atol=1e-5)
    (grad,) = torch.autograd.grad(e, v)
    assert torch.isfinite(grad).all()
    split = int(f[:n].max()) + 1
    push_a, push_b = -grad[0, :split].sum(0), -grad[0, split:].sum(0)
    assert push_a[0] < 0 < push_b[0]  # sphere A (at x = 0) is pushed to -x, sphere B to +x


def test_gradient_steps_reduce_the_penetration_of_two_spheres():
    v, f, n = two_spheres(distance=1.6)
    x = v.clone().requires_grad_(True)
    before = C.collision_energy(v, f, sigma=2.0).item()
    for _ in range(20):
        pairs = C.intersecting_pairs(x, f)
        e = C.collision_energy(x, f, pairs, sigma=2.0).sum()
        (g,) = torch.autograd.grad(e, x)
        with torch.no_grad():
            x -= 0.02 * g
    assert C.collision_energy(x.detach(), f, sigma=2.0).item() < 0.5 * before


@pytest.fixture(scope="module")
def model():
    return load_body_model(open_smplx_model_file(), layout="native")


def _hand_into_torso():
    pose = torch.zeros(1, 55, 3)
    pose[0, SMPLX_JOINT_NAMES.index("left_shoulder"), 2] = -1.3
    pose[0, SMPLX_JOINT_NAMES.index("left_elbow"), 2] = -1.3
    return pose


def test_rest_pose_pairs_are_the_eyes_in_the_eyelids_and_the_toes(model):
    v = model().vertices
    parts = C.face_parts(model.weights, model.faces)
    pairs = C.intersecting_pairs(v, model.faces)
    # documented: 962 pairs, all inside the head with its eyeballs (910) or inside one foot (26 each)
    assert len(pairs) == 962
    merged = C.face_parts(model.weights, model.faces, C.SMPLX_HEAD_PARTS)
    assert (merged[pairs[:, 1]] == merged[pairs[:, 2]]).all()
    assert set(parts[pairs[:, 1:]].unique().tolist()) <= {10, 11, 15, 23, 24}
    assert C.intersecting_pairs(v, model.faces, merged).shape == (0, 3)


def test_hand_pushed_into_the_torso(model):
    parts = C.face_parts(model.weights, model.faces, C.SMPLX_HEAD_PARTS)
    pose = _hand_into_torso().requires_grad_(True)
    out = model(pose=pose)
    pairs = C.intersecting_pairs(out.vertices, model.faces, parts)
    touched = set(parts[pairs[:, 1:]].unique().tolist())
    assert len(pairs) > 20 and SMPLX_JOINT_NAMES.index("left_elbow") in touched and 3 in touched  # forearm, spine1
    e = C.collision_energy(out.vertices, model.faces, pairs)
    assert float(e) > 0
    (g,) = torch.autograd.grad(e.sum(), pose)
    assert torch.isfinite(g).all() and g.abs().sum() > 0
    # a few gradient steps on the arm's pose take the forearm out of the torso
    opt = torch.optim.Adam([pose], lr=0.03)
    for _ in range(15):
        verts = model(pose=pose).vertices
        e = C.collision_energy(verts, model.faces, face_parts=parts)
        opt.zero_grad()
        e.sum().backward()
        opt.step()
    with torch.no_grad():
        after = C.intersecting_pairs(model(pose=pose).vertices, model.faces, parts)
    assert len(after) < 0.5 * len(pairs)


def test_batch_and_energy_per_body(model):
    v = torch.cat((model().vertices, model(pose=_hand_into_torso()).vertices))
    parts = C.face_parts(model.weights, model.faces, C.SMPLX_HEAD_PARTS)
    pairs = C.intersecting_pairs(v, model.faces, parts)
    assert (pairs[:, 0] == 1).all()
    one = C.intersecting_pairs(v[1:], model.faces, parts)
    assert torch.equal(pairs[:, 1:], one[:, 1:])
    e = C.collision_energy(v, model.faces, pairs)
    assert e[0] == 0 and e[1] > 0
    assert C.collision_energy(v[:0], model.faces).shape == (0,)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_equals_cpu(model):
    v = torch.cat((model().vertices, model(pose=_hand_into_torso()).vertices))
    parts = C.face_parts(model.weights, model.faces, C.SMPLX_HEAD_PARTS)
    cpu = C.intersecting_pairs(v, model.faces, parts)
    gpu = C.intersecting_pairs(v.cuda(), model.faces.cuda(), parts.cuda())
    assert torch.equal(cpu, gpu.cpu())
    torch.testing.assert_close(C.collision_energy(v, model.faces, cpu),
                               C.collision_energy(v.cuda(), model.faces.cuda(), gpu).cpu(), rtol=1e-4, atol=1e-6)
