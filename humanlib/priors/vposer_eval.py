"""Measuring pose priors on held-out poses: VPoser against the GMM.

Every metric works on rotation matrices ``(N, 21, 3, 3)`` of the 21 body joints, so the two
priors (one decodes rotations, the other lives in axis-angle) are compared the same way.

* **Reconstruction**: how well a 32-number code describes a held-out pose. VPoser: decode the
  encoder mean. The GMM has no encoder; its natural 32-number code is the projection of the
  pose onto the 32 principal directions of its most responsible component (a mixture of
  probabilistic PCA), :func:`gmm_reconstruct`. Errors in degrees per joint
  (:func:`geodesic_deg_per_joint`) and millimetres per vertex on the open body model (mean
  shape, root at rest).
* **Plausibility of samples**: the distance (mean geodesic angle per joint) from each sample to
  its nearest training and test pose (:func:`nearest_pose_distance`), and the fraction of
  samples with a joint outside the range the training data visits (:func:`joint_ranges`,
  :func:`range_violations`). The same numbers for real test poses give the baseline.
* **Diversity**: the mean geodesic angle per joint between random pairs of samples
  (:func:`pairwise_diversity`), against the same for test poses.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from humanlib import rotations
from humanlib._validate import (
    check_file,
    check_generator,
    check_positive,
    check_same_device,
    check_tensor,
)
from humanlib.priors import _require_tensor
from humanlib.priors.vposer_checkpoint import load_vposer
from humanlib.priors.vposer_loss import body_forward_from_model
from humanlib.priors.vposer_model import VPoser, _check_vposer, as_body_pose


def _check_rotmats(x: torch.Tensor, name: str) -> None:
    """A non-empty, finite, floating ``(N, J, 3, 3)`` tensor (the device is checked first on pairs)."""
    _require_tensor(x, name, "(N, J, 3, 3)")
    if x.ndim != 4 or x.shape[-2:] != (3, 3) or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must be a (N, J, 3, 3) tensor of rotation matrices with N, J >= 1, "
                         f"got {tuple(x.shape)}")
    check_tensor(x, name)


def _check_pair(a: torch.Tensor, b: torch.Tensor, name_a: str, name_b: str) -> None:
    _require_tensor(a, name_a, "(N, J, 3, 3)")
    _require_tensor(b, name_b, "(N, J, 3, 3)")
    if a.device != b.device:  # before the finiteness checks (meta tensors hold no values)
        raise ValueError(f"{name_a} is on {a.device} but {name_b} is on {b.device}; move them to one device")
    _check_rotmats(a, name_a)
    _check_rotmats(b, name_b)


def _check_poses(x: torch.Tensor, name: str) -> None:
    _require_tensor(x, name, "(N, J, 3)")
    if x.ndim != 3 or x.shape[-1] != 3 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must be (N, J, 3) axis-angle with N, J >= 1, got {tuple(x.shape)}")
    check_tensor(x, name)


def geodesic_deg_per_joint(rotmat_a: torch.Tensor, rotmat_b: torch.Tensor) -> torch.Tensor:
    """Mean geodesic angle per joint, in degrees: ``(N, J, 3, 3) x 2 -> (N,)``.

    Raises:
        ValueError: non-tensors, empty, non-finite or differently shaped inputs, or
            inputs on different devices (``TypeError`` for an argument of the wrong type).
    """
    _check_pair(rotmat_a, rotmat_b, "rotmat_a", "rotmat_b")
    if rotmat_a.shape != rotmat_b.shape:
        raise ValueError(f"rotmat_a and rotmat_b must have the same shape, got {tuple(rotmat_a.shape)} and {tuple(rotmat_b.shape)}")
    return torch.rad2deg(rotations.rotmat_geodesic_distance(rotmat_a, rotmat_b)).mean(-1)


@torch.no_grad()
def nearest_pose_distance(samples: torch.Tensor, reference: torch.Tensor, chunk: int = 16384) -> torch.Tensor:
    """Distance of each sample to its nearest reference pose.

    The neighbour is the nearest in the chordal metric ``sum_j ||R_j - R'_j||_F^2`` (a matrix
    product, cheap for large reference sets); the distance reported is the mean geodesic angle
    per joint to that neighbour, in degrees.

    Args:
        samples: ``(S, J, 3, 3)`` rotation matrices.
        reference: ``(N, J, 3, 3)`` rotation matrices.
        chunk: Reference poses per block (memory ``S * chunk`` floats).

    Returns:
        ``(S,)`` degrees.

    Raises:
        ValueError: as :func:`geodesic_deg_per_joint`; different joint counts; a
            ``chunk`` < 1 (``TypeError`` for an argument of the wrong type).
    """
    _check_pair(samples, reference, "samples", "reference")
    check_positive(chunk, "chunk", integer=True)
    if samples.shape[1] != reference.shape[1]:
        raise ValueError(f"samples have {samples.shape[1]} joints, reference {reference.shape[1]}")
    s = samples.reshape(samples.shape[0], -1).float()
    best_dot = torch.full((s.shape[0],), -torch.inf, device=s.device)
    best_idx = torch.zeros(s.shape[0], dtype=torch.long, device=s.device)
    for start in range(0, reference.shape[0], chunk):
        ref = reference[start:start + chunk].reshape(-1, s.shape[1]).float()
        # ||R - R'||^2 = const - 2 <R, R'> for rotations: the nearest has the largest dot product
        dot, idx = (s @ ref.T).max(dim=1)
        better = dot > best_dot
        best_dot = torch.where(better, dot, best_dot)
        best_idx = torch.where(better, idx + start, best_idx)
    return geodesic_deg_per_joint(samples.float(), reference[best_idx].float())


def joint_ranges(poses: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per joint and axis, the smallest and largest axis-angle component seen in ``poses``.

    Args:
        poses: ``(N, J, 3)`` axis-angle (e.g. the training split).

    Returns:
        ``(low, high)``, each ``(J, 3)`` radians.

    Raises:
        ValueError: ``poses`` is not a finite, floating, non-empty ``(N, J, 3)`` tensor
            (``TypeError`` for an argument of the wrong type).
    """
    _check_poses(poses, "poses")
    return poses.amin(0), poses.amax(0)


RANGE_MARGIN_RAD = math.radians(1.0)
"""Margin of :func:`range_violations` (1 degree): a joint the corpus never moves (spine2, held at
rest by both sources) has a range of zero width, which no network output hits exactly."""


def range_violations(poses: torch.Tensor, low: torch.Tensor, high: torch.Tensor,
                     margin: float = RANGE_MARGIN_RAD) -> torch.Tensor:
    """Whether each pose has a joint outside the ranges widened by ``margin`` (radians) on each
    side: ``(N, J, 3) -> (N,)`` booleans.

    Raises:
        ValueError: non-tensors; ``poses`` not a finite ``(N, J, 3)`` tensor (a NaN
            joint would count as inside every range); ``low`` / ``high`` not ``(J, 3)``, on another
            device, or with ``low > high`` somewhere, ``margin`` < 0 (``TypeError`` for an argument of
            the wrong type).
    """
    check_positive(margin, "margin", allow_zero=True)
    _require_tensor(poses, "poses", "(N, J, 3)")
    _require_tensor(low, "low", "(J, 3)")
    _require_tensor(high, "high", "(J, 3)")
    check_same_device(poses, "poses", low=low, high=high)
    if poses.ndim != 3 or poses.shape[1:] != low.shape or low.shape != high.shape:
        raise ValueError(f"poses {tuple(poses.shape)} do not match ranges {tuple(low.shape)} / {tuple(high.shape)}")
    check_tensor(poses, "poses")
    check_tensor(low, "low", finite=False)
    check_tensor(high, "high", finite=False)
    if bool((low > high).any()):
        raise ValueError("low > high for some joint and axis: pass the (low, high) of joint_ranges in that order")
    return ((poses < low - margin) | (poses > high + margin)).any(-1).any(-1)


@torch.no_grad()
def pairwise_diversity(rotmat: torch.Tensor, num_pairs: int = 2000, generator: torch.Generator | None = None) -> float:
    """Mean geodesic angle per joint (degrees) between random pairs of poses ``(N, J, 3, 3)``.

    Raises:
        ValueError: ``rotmat`` as in :func:`geodesic_deg_per_joint` with ``N >= 2``;
            ``num_pairs`` < 1; ``generator`` not a CPU ``torch.Generator``
            (``TypeError`` for an argument of the wrong type).
    """
    _check_rotmats(rotmat, "rotmat")
    check_positive(num_pairs, "num_pairs", integer=True)
    check_generator(generator)
    if generator is not None and generator.device.type != "cpu":
        raise ValueError(f"generator must be a CPU torch.Generator (the pair indices are drawn on the CPU); got {generator.device}")
    if rotmat.shape[0] < 2:
        raise ValueError("need at least 2 poses to measure diversity")
    i = torch.randint(rotmat.shape[0], (num_pairs,), generator=generator)
    j = (i + torch.randint(1, rotmat.shape[0], (num_pairs,), generator=generator)) % rotmat.shape[0]
    i, j = i.to(rotmat.device), j.to(rotmat.device)
    return float(geodesic_deg_per_joint(rotmat[i], rotmat[j]).mean())


@torch.no_grad()
def gmm_reconstruct(gmm, poses: torch.Tensor, code_dim: int = 32) -> torch.Tensor:
    """Reconstruct poses from a ``code_dim``-number GMM code (mixture-of-PPCA projection).

    For each pose, take the component ``k`` with the largest responsibility and project
    ``theta - mu_k`` onto the ``code_dim`` leading eigenvectors of ``Sigma_k``.

    Args:
        gmm: A :class:`humanlib.priors.gmm.GaussianMixture` on 63-d body poses.
        poses: ``(N, 21, 3)`` axis-angle.
        code_dim: Number of principal directions kept (32, VPoser's latent size).

    Returns:
        ``(N, 21, 3)`` reconstructed axis-angle.

    Raises:
        ValueError: ``gmm`` is not a 63-d GaussianMixture; ``poses`` as in
            :func:`humanlib.priors.vposer_model.as_body_pose` or on another device; ``code_dim`` not in
            ``[1, 63]`` (``TypeError`` for an argument of the wrong type).
    """
    from humanlib.priors.gmm import GaussianMixture

    if not isinstance(gmm, GaussianMixture):
        raise TypeError(f"gmm must be a humanlib.priors.gmm.GaussianMixture (see load_gmm); got {type(gmm).__name__}")
    _require_tensor(poses, "poses", "(N, 21, 3)")
    check_same_device(gmm.means, "the GMM", poses=poses)
    poses = as_body_pose(poses, name="poses")
    if gmm.dim != poses.shape[1] * 3:
        raise ValueError(f"gmm is {gmm.dim}-dimensional but the poses have {poses.shape[1] * 3} numbers")
    if isinstance(code_dim, bool) or not isinstance(code_dim, int) or not 1 <= code_dim <= gmm.dim:
        raise ValueError(f"code_dim must be an int in [1, {gmm.dim}], got {code_dim!r}")
    x = poses.reshape(poses.shape[0], -1).double()
    k = gmm.responsibilities(x.to(gmm.means.dtype)).argmax(-1)
    _, vecs = torch.linalg.eigh(gmm.covariances.double())  # ascending eigenvalues
    basis = vecs[..., -code_dim:]  # (K, D, code_dim)
    mu = gmm.means.double()[k]
    u = basis[k]
    coeff = torch.einsum("ndc,nd->nc", u, x - mu)
    return (mu + torch.einsum("ndc,nc->nd", u, coeff)).reshape(poses.shape).to(poses.dtype)


@dataclass
class PriorScores:
    """Measured numbers of one prior (or of the test data, as a baseline).

    Attributes:
        recon_deg_mean: Mean reconstruction error, degrees per joint (None for the data).
        recon_deg_median: Median over poses of the per-pose error.
        recon_mm_mean: Mean per-vertex error on the open body model, millimetres (None without it).
        sample_to_train_deg: Mean distance of samples to their nearest training pose (deg/joint).
        sample_to_test_deg: Mean distance of samples to their nearest test pose (deg/joint).
        range_violation_rate: Fraction of samples with a joint outside the training ranges.
        diversity_deg: Mean distance between random pairs of samples (deg/joint).
    """

    recon_deg_mean: float | None
    recon_deg_median: float | None
    recon_mm_mean: float | None
    sample_to_train_deg: float
    sample_to_test_deg: float
    range_violation_rate: float
    diversity_deg: float


@torch.no_grad()
def vertex_error_mm(body_forward, poses: torch.Tensor, recon: torch.Tensor, chunk: int = 256) -> float:
    """Mean per-vertex distance (mm) between the bodies posed by ``poses`` and ``recon`` ``(N, 21, 3)``.

    Raises:
        ValueError: ``body_forward`` not callable; ``poses`` / ``recon`` not finite,
            non-empty and of one shape; ``chunk`` < 1 (``TypeError`` for an argument of the wrong type).
    """
    if not callable(body_forward):
        raise TypeError(f"body_forward must be callable (see body_forward_from_model); got {type(body_forward).__name__}")
    check_positive(chunk, "chunk", integer=True)
    _require_tensor(poses, "poses", "(N, 21, 3)")
    _require_tensor(recon, "recon", "(N, 21, 3)")
    check_same_device(poses, "poses", recon=recon)
    poses = as_body_pose(poses, name="poses")
    recon = as_body_pose(recon, name="recon")
    if poses.shape != recon.shape:
        raise ValueError(f"poses and recon must have the same shape, got {tuple(poses.shape)} and {tuple(recon.shape)}")
    total, count = 0.0, 0
    for s in range(0, poses.shape[0], chunk):
        v, _ = body_forward(poses[s:s + chunk])
        v_hat, _ = body_forward(recon[s:s + chunk])
        d = (v - v_hat).norm(dim=-1).mean(-1)
        total += float(d.sum())
        count += d.shape[0]
    return 1000.0 * total / count


@torch.no_grad()
def score_samples(samples_rotmat, samples_aa, train_rotmat, test_rotmat, low, high, generator) -> dict:
    """Plausibility and diversity numbers of a set of samples (rotations and axis-angle).

    Raises:
        ValueError: as the metric functions; ``samples_rotmat`` and ``samples_aa``
            describing different numbers of samples or joints (``TypeError`` for an argument of the wrong type).
    """
    _require_tensor(samples_rotmat, "samples_rotmat", "(S, J, 3, 3)")
    _require_tensor(samples_aa, "samples_aa", "(S, J, 3)")
    if samples_rotmat.shape[:2] != samples_aa.shape[:2]:
        raise ValueError(f"samples_rotmat {tuple(samples_rotmat.shape)} and samples_aa {tuple(samples_aa.shape)} "
                         "must describe the same samples (same S and J)")
    return {
        "sample_to_train_deg": float(nearest_pose_distance(samples_rotmat, train_rotmat).mean()),
        "sample_to_test_deg": float(nearest_pose_distance(samples_rotmat, test_rotmat).mean()),
        "range_violation_rate": float(range_violations(samples_aa, low, high).float().mean()),
        "diversity_deg": pairwise_diversity(samples_rotmat, generator=generator),
    }


def run_comparison(
    checkpoint: str | Path | None = None,
    gmm_path: str | Path | None = None,
    num_samples: int = 1000,
    max_test: int = 2000,
    max_train: int = 100_000,
    seed: int = 0,
    command: str = "",
    vposer: VPoser | None = None,
    progress: bool = False,
) -> dict:
    """Measure VPoser, the GMM (when available) and the test data itself; return a JSON-ready dict.

    Args:
        checkpoint: VPoser checkpoint (None: the committed one), unless ``vposer`` is given.
        gmm_path: GMM ``.npz`` (None: the committed GMM; skipped with a note if it is missing).
        num_samples: Samples drawn from each prior.
        max_test: Test poses used (a seeded random subset).
        max_train: Training poses used as the nearest-neighbour reference and for the ranges.
        seed: Seed of the subsets and the samples.
        command: The command line, stored in the results.
        vposer: An already loaded model (overrides ``checkpoint``).
        progress: Show a tqdm bar over the four stages (data, VPoser, GMM, test poses).

    Raises:
        ValueError: a count that is not a positive int (``num_samples`` >= 2), a
            ``vposer`` that is not a VPoser; checked before any file is read
            (``TypeError`` for an argument of the wrong type).
        FileNotFoundError: a missing ``checkpoint``, or a ``gmm_path`` given but missing (only the
            default GMM is skipped when absent).
    """
    from tqdm.auto import tqdm

    _check_comparison_args(num_samples, max_test, max_train, seed, vposer, gmm_path)
    t0 = time.perf_counter()
    model = vposer if vposer is not None else load_vposer(checkpoint)
    model = model.eval().cpu()
    bar = tqdm(total=4, desc="eval-vposer: corpus", unit="stage", disable=not progress)
    g = torch.Generator().manual_seed(seed)  # one generator, drawn in this order: subsets, VPoser, GMM, test poses
    data = _ComparisonData.load(max_train, max_test, g)
    body_forward, body_note = _open_body_forward()
    results: dict = {}
    bar.update(1)
    bar.set_description("eval-vposer: VPoser")
    results["vposer"] = _score_vposer(model, data, body_forward, num_samples, g)
    bar.update(1)
    bar.set_description("eval-vposer: GMM")
    gmm, gmm_note = _load_gmm_or_note(gmm_path)
    if gmm is not None:
        results["gmm"] = _score_gmm(gmm, model.latent_dim, data, body_forward, num_samples, g)
    bar.update(1)
    bar.set_description("eval-vposer: test poses")
    results["test_data"] = _score_test_data(data, num_samples, g)
    bar.update(1)
    bar.close()
    return _comparison_record(model, data, results, command=command, t0=t0, checkpoint=checkpoint, gmm_path=gmm_path,
                              gmm=gmm, gmm_note=gmm_note, body_note=body_note, num_samples=num_samples, seed=seed)


def _check_comparison_args(num_samples, max_test, max_train, seed, vposer, gmm_path) -> None:
    """The checks of :func:`run_comparison`, before any file is read."""
    for name, value in (("num_samples", num_samples), ("max_test", max_test), ("max_train", max_train)):
        check_positive(value, name, integer=True)
    if num_samples < 2:
        raise ValueError(f"num_samples must be >= 2 (diversity compares pairs of samples), got {num_samples}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int; got {type(seed).__name__}")
    if vposer is not None:
        _check_vposer(vposer, "vposer")
    if gmm_path is not None:
        check_file(gmm_path, "GMM file", "omit gmm_path to use the committed GMM, or fit one with `humanlib train-gmm --out FILE`")


@dataclass
class _ComparisonData:
    """The corpus poses a comparison measures on: seeded subsets of train and test, their rotation
    matrices, the train split's joint ranges and the fingerprints of the whole splits."""

    train: torch.Tensor
    test: torch.Tensor
    train_r: torch.Tensor
    test_r: torch.Tensor
    low: torch.Tensor
    high: torch.Tensor
    fingerprints: dict

    @classmethod
    def load(cls, max_train: int, max_test: int, g: torch.Generator) -> "_ComparisonData":
        from humanlib.priors.train_vposer import corpus_body_poses
        from humanlib.provenance import poses_fingerprint

        train = corpus_body_poses("train")
        test = corpus_body_poses("test")
        fingerprints = {"train": poses_fingerprint(train), "test": poses_fingerprint(test)}
        low, high = joint_ranges(train)
        if train.shape[0] > max_train:
            train = train[torch.randperm(train.shape[0], generator=g)[:max_train]]
        if test.shape[0] > max_test:
            test = test[torch.randperm(test.shape[0], generator=g)[:max_test]]
        return cls(train, test, rotations.axis_angle_to_rotmat(train), rotations.axis_angle_to_rotmat(test),
                   low, high, fingerprints)


def _open_body_forward():
    """``(body_forward, note)`` of the open body model (``None`` and why when it cannot be loaded)."""
    try:
        from humanlib.body import load_body_model

        return body_forward_from_model(load_body_model()), "open body model, mean shape, root at rest"
    except (ImportError, FileNotFoundError) as exc:
        return None, f"no body model ({exc}); mm per vertex not measured"


def _score_vposer(model: VPoser, data: _ComparisonData, body_forward, num_samples: int, g: torch.Generator) -> dict:
    """VPoser's reconstruction of the test poses and the scores of its samples."""
    rec = model.reconstruct(data.test)
    err = geodesic_deg_per_joint(data.test_r, rec.rotmat)
    samples = model.sample(num_samples, generator=g)
    return asdict(PriorScores(
        recon_deg_mean=float(err.mean()), recon_deg_median=float(err.median()),
        recon_mm_mean=vertex_error_mm(body_forward, data.test, rec.pose) if body_forward else None,
        **score_samples(samples.rotmat, samples.pose, data.train_r, data.test_r, data.low, data.high, g)))


def _load_gmm_or_note(gmm_path):
    """``(gmm, None)``, or ``(None, why)`` when it is not available."""
    try:
        from humanlib.priors.gmm import load_gmm

        return load_gmm(gmm_path), None
    except (ImportError, FileNotFoundError) as exc:
        return None, f"GMM not available: {exc}"


def _score_gmm(gmm, latent_dim: int, data: _ComparisonData, body_forward, num_samples: int, g: torch.Generator) -> dict:
    """The GMM's reconstruction (projection on ``latent_dim`` directions) and the scores of its samples."""
    rec_aa = gmm_reconstruct(gmm, data.test, latent_dim)
    err = geodesic_deg_per_joint(data.test_r, rotations.axis_angle_to_rotmat(rec_aa))
    s_aa = gmm.sample(num_samples, generator=g).float().reshape(num_samples, -1, 3)
    return asdict(PriorScores(
        recon_deg_mean=float(err.mean()), recon_deg_median=float(err.median()),
        recon_mm_mean=vertex_error_mm(body_forward, data.test, rec_aa) if body_forward else None,
        **score_samples(rotations.axis_angle_to_rotmat(s_aa), s_aa, data.train_r, data.test_r, data.low, data.high, g)))


def _score_test_data(data: _ComparisonData, num_samples: int, g: torch.Generator) -> dict:
    """What real poses score: test poses as the samples (their distance to the nearest *other* test
    pose is meaningless, so "to test" is left out for this row)."""
    idx = torch.randperm(data.test.shape[0], generator=g)[:num_samples]
    scores = score_samples(data.test_r[idx], data.test[idx], data.train_r, data.test_r, data.low, data.high, g)
    scores["sample_to_test_deg"] = None
    return dict(recon_deg_mean=None, recon_deg_median=None, recon_mm_mean=None, **scores)


#: What each number of :func:`run_comparison` measures (stored in the results file).
_DEFINITIONS = {
    "recon_deg": "mean geodesic angle per joint between a test pose and its reconstruction from a "
                 "32-number code (VPoser: decoder(encoder mean); GMM: projection on the 32 leading "
                 "principal directions of the most responsible component)",
    "recon_mm": "mean per-vertex distance on the open body model (mean shape, root at rest)",
    "sample_to_train_deg / sample_to_test_deg": "mean geodesic angle per joint from a sample to the "
                 "nearest (chordal metric) train / test pose; the data row uses test poses as samples",
    "range_violation_rate": "fraction of samples with an axis-angle component outside the "
                            "[min, max] range of the whole train split widened by 1 degree on each "
                            "side (a joint the corpus never moves has a range of zero width)",
    "diversity_deg": "mean geodesic angle per joint between random pairs of samples",
}


def _comparison_record(model: VPoser, data: _ComparisonData, results: dict, *, command, t0, checkpoint, gmm_path, gmm,
                       gmm_note, body_note, num_samples, seed) -> dict:
    """The results file of :func:`run_comparison`: provenance, settings, definitions and the scores."""
    from humanlib.provenance import machine_description

    meta = getattr(model, "metadata", {})
    return {
        "command": command,
        "machine": machine_description(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(time.perf_counter() - t0, 1),
        "checkpoint": str(checkpoint) if checkpoint else "humanlib/assets/priors/vposer_open.pt",
        "checkpoint_train_seconds": meta.get("train_seconds"),
        "checkpoint_corpus_train_fingerprint": meta.get("corpus_train_fingerprint"),
        "corpus_fingerprints": data.fingerprints,
        "gmm": str(gmm_path) if gmm_path else ("committed GMM" if gmm is not None else None),
        "gmm_note": gmm_note,
        "body": body_note,
        "num_samples": num_samples,
        "test_poses": int(data.test.shape[0]),
        "train_reference_poses": int(data.train.shape[0]),
        "seed": seed,
        "definitions": dict(_DEFINITIONS),
        "priors": results,
    }


#: Rows of :func:`comparison_table`: result key -> label.
TABLE_ROWS = {
    "recon_deg_mean": "reconstruction (deg/joint)",
    "recon_mm_mean": "reconstruction (mm/vertex)",
    "sample_to_train_deg": "sample → nearest train pose (deg/joint)",
    "sample_to_test_deg": "sample → nearest test pose (deg/joint)",
    "range_violation_rate": "samples outside the train ranges",
    "diversity_deg": "diversity (deg/joint)",
}


def comparison_table(results: dict) -> str:
    """A markdown table of :func:`run_comparison`'s results (one column per prior, test data last).

    Raises:
        ValueError: ``results`` is not a :func:`run_comparison` dictionary (its
            ``priors`` entry is missing, empty, or lacks a row of :data:`TABLE_ROWS`)
            (``TypeError`` for an argument of the wrong type).
    """
    if not isinstance(results, dict) or not isinstance(results.get("priors"), dict):
        raise TypeError("results must be the dict returned by run_comparison (with a 'priors' entry); "
                        f"got {type(results).__name__}" + (f" with keys {sorted(results)[:6]}" if isinstance(results, dict) else ""))
    cols = [c for c in ("vposer", "gmm", "test_data") if results["priors"].get(c)]

    def fmt(key: str, value) -> str:
        if value is None:
            return "–"
        return f"{100 * value:.1f} %" if key == "range_violation_rate" else f"{value:.3g}"

    if not cols:
        raise ValueError("results['priors'] has none of the columns 'vposer', 'gmm', 'test_data'")
    for c in cols:
        missing = [k for k in TABLE_ROWS if k not in results["priors"][c]]
        if missing:
            raise ValueError(f"results['priors'][{c!r}] lacks the rows {missing}")
    lines = ["| | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for key, label in TABLE_ROWS.items():
        lines.append(f"| {label} | " + " | ".join(fmt(key, results["priors"][c][key]) for c in cols) + " |")
    return "\n".join(lines)
