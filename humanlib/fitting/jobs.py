"""Jobs around SMPLify: the prior factory, the ablation on synthetic keypoints, a speed benchmark.

``humanlib fit`` fits keypoints stored in an ``.npz``; ``humanlib smplify-eval`` runs the
ablation in the spirit of the SMPLify-X paper's Table 2 on synthetic keypoints of test-split
corpus poses and writes ``results/smplify_ablation.json`` (command and machine inside).
"""

from __future__ import annotations

import json
import time
import zipfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from humanlib._validate import check_positive, resolve_device
from humanlib.fitting.evaluate import (
    SyntheticBatch,
    SyntheticConfig,
    fit_errors,
    make_synthetic_batch,
)
from humanlib.fitting.smplify import OPTIMIZERS, SMPLifyConfig, fit_smplify, smplify_stages
from humanlib.paths import input_file
from humanlib.priors.registry import load_prior
from humanlib.provenance import machine_description
from humanlib.skeleton import BODY_JOINTS, NUM_JOINTS

#: The priors ``humanlib fit --prior`` offers (names of :mod:`humanlib.priors.registry`; ``gmm-min``
#: is its alias of ``gmm``, kept because the ablation's results name it so).
PRIOR_NAMES = ("none", "gmm-min", "gmm-exact", "vposer", "posendf")
#: A pose prior by name (any name or alias of :mod:`humanlib.priors.registry`).
make_prior = load_prior


@dataclass
class Variant:
    """One row of the ablation: a prior and switches on the SMPLify configuration.

    Raises:
        TypeError, ValueError: an empty name, a prior not in :data:`PRIOR_NAMES`, a switch that is not a bool.
    """

    name: str
    prior: str
    angle: bool = True
    interpenetration: bool = True
    square_weights: bool = True
    optimizer: str = "per-frame"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"Variant.name must be a non-empty string (the table's row label); got {self.name!r}")
        if self.prior not in PRIOR_NAMES:
            raise ValueError(f"Variant.prior must be one of {', '.join(PRIOR_NAMES)}; got {self.prior!r}")
        for switch in ("angle", "interpenetration", "square_weights"):
            if not isinstance(getattr(self, switch), bool):
                raise TypeError(f"Variant.{switch} must be True or False; got {getattr(self, switch)!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"Variant.optimizer must be one of {', '.join(OPTIMIZERS)}; got {self.optimizer!r}")


def _check_device(device: object) -> str:
    """``device`` as a string torch knows and this machine has; ``ValueError`` otherwise."""
    return str(resolve_device(device, allow_meta=False))


#: The ablation rows (the talk's Table 2 compares VPoser with GMM and drops the collision term).
ABLATION: tuple[Variant, ...] = (
    Variant("SMPLify (GMM min)", "gmm-min"),
    Variant("GMM exact", "gmm-exact"),
    Variant("VPoser instead of GMM", "vposer"),
    Variant("no pose prior", "none"),
    Variant("no E_a (elbow/knee)", "gmm-min", angle=False),
    Variant("no E_sp (interpenetration)", "gmm-min", interpenetration=False),
    Variant("weights not squared", "gmm-min", square_weights=False),
    Variant("one L-BFGS for the whole batch", "gmm-min", optimizer="batch"),
)
#: Slower rows, run with ``--posendf`` (SMPLify's stage weights, not tuned for Pose-NDF's distance).
EXTRA_VARIANTS: tuple[Variant, ...] = (Variant("Pose-NDF instead of GMM", "posendf"),)


def corpus_poses(split: str, num_frames: int, seed: int = 0) -> torch.Tensor:
    """``num_frames`` body poses ``(N, 21, 3)`` drawn without replacement from a corpus split.

    Raises:
        TypeError, ValueError: ``num_frames`` not an integer >= 1 or more than the split holds,
            ``seed`` not an integer >= 0, an unknown split.
    """
    check_positive(num_frames, "num_frames", integer=True)
    check_positive(seed, "seed", integer=True, allow_zero=True)
    from humanlib.data import load_corpus

    poses = load_corpus(split).poses
    if num_frames > len(poses):
        raise ValueError(f"num_frames={num_frames} but the corpus {split} split holds {len(poses)} frames; ask for fewer")
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(poses), generator=gen)[:num_frames].sort().values
    return torch.as_tensor(poses)[idx][:, list(BODY_JOINTS)].float()


def corpus_test_poses(num_frames: int, seed: int = 0) -> torch.Tensor:
    """``num_frames`` body poses ``(N, 21, 3)`` of the corpus test split (:func:`corpus_poses`)."""
    return corpus_poses("test", num_frames, seed)


def evaluate_variant(model, batch, variant: Variant, iterations: int, device: str = "cpu") -> dict:
    """Fit a synthetic batch with one variant and measure errors and time.

    Raises:
        TypeError, ValueError: ``batch`` not a :class:`~humanlib.fitting.evaluate.SyntheticBatch`,
            ``variant`` not a :class:`Variant`, ``iterations`` not an integer >= 0, an unknown or
            unavailable ``device``.
    """
    if not isinstance(batch, SyntheticBatch):
        raise TypeError(f"batch must be a SyntheticBatch (make_synthetic_batch); got {type(batch).__name__}")
    if not isinstance(variant, Variant):
        raise TypeError(f"variant must be a Variant (e.g. ABLATION[0]); got {type(variant).__name__}")
    check_positive(iterations, "iterations", integer=True, allow_zero=True)
    device = _check_device(device)
    config = SMPLifyConfig(
        stages=smplify_stages(iterations=iterations),
        camera_iterations=iterations,
        use_angle_prior=variant.angle,
        use_interpenetration=variant.interpenetration,
        square_weights=variant.square_weights,
        optimizer=variant.optimizer,
    )
    prior = make_prior(variant.prior)
    if isinstance(prior, torch.nn.Module):
        prior = prior.to(device)
    model = model.to(device)
    start = time.perf_counter()
    res = fit_smplify(model, batch.keypoints.to(device), batch.confidence.to(device), batch.camera.to(device), prior, config)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        fit = model(betas=res.betas, pose=res.pose, transl=res.transl)
        true = model(betas=batch.betas.to(device), pose=batch.pose.to(device), transl=batch.transl.to(device))
        err = fit_errors(fit.vertices, fit.joints, true.vertices, true.joints)
    row = {"name": variant.name, **asdict(variant), **err.summary()}
    row.update(
        seconds=round(seconds, 1),
        frames_per_second=round(len(batch.keypoints) / seconds, 2),
        flipped=int(res.flipped.sum()),
        per_frame_v2v_pa=[round(float(x), 1) for x in err.v2v_pa.cpu()],
        per_frame_v2v=[round(float(x), 1) for x in err.v2v.cpu()],
    )
    return row


def run_ablation(num_frames: int = 64, iterations: int = 30, seed: int = 0, learned: bool = False,
                 variants: tuple[Variant, ...] | None = None, device: str = "cpu", command: str = "",
                 progress: bool = False, alone: int = 0) -> dict:
    """Run the ablation on ``num_frames`` synthetic frames; returns the results dictionary.

    ``progress`` shows a tqdm bar over the variants (terminal and Jupyter). ``alone > 0`` also
    fits the first ``alone`` frames one at a time (:func:`fit_alone`) with the full method and
    each solver (the variants that differ from the first row by ``optimizer`` only), so that each
    frame's error inside the batch can be set beside its error alone.

    Raises:
        TypeError, ValueError: ``num_frames`` not an integer >= 1, ``iterations`` or ``seed`` not an
            integer >= 0, ``learned`` not a bool, ``variants`` not None or a non-empty tuple of
            :class:`Variant`, an unknown or unavailable ``device``; checked before anything loads.
    """
    check_positive(num_frames, "num_frames", integer=True)
    check_positive(iterations, "iterations", integer=True, allow_zero=True)
    check_positive(seed, "seed", integer=True, allow_zero=True)
    check_positive(alone, "alone", integer=True, allow_zero=True)
    if not isinstance(learned, bool):
        raise TypeError(f"learned must be True or False; got {learned!r}")
    if variants is not None and (not isinstance(variants, (tuple, list)) or not variants
                                 or not all(isinstance(v, Variant) for v in variants)):
        raise ValueError(f"variants must be None (the default table) or a non-empty tuple of Variant; got {variants!r}")
    device = _check_device(device)
    from humanlib.body import load_body_model

    model = load_body_model()
    synth = SyntheticConfig()
    batch = make_synthetic_batch(model, corpus_test_poses(num_frames, seed), synth, seed=seed)
    rows = []
    chosen = variants if variants is not None else ABLATION + (EXTRA_VARIANTS if learned else ())
    from tqdm.auto import tqdm

    for variant in tqdm(chosen, desc="smplify-eval", unit="variant", disable=not progress):
        try:
            rows.append(evaluate_variant(model, batch, variant, iterations, device))
        except FileNotFoundError as err:  # a learned prior whose checkpoint is not available
            rows.append({"name": variant.name, "prior": variant.prior, "skipped": str(err)})
        tqdm.write(json.dumps({k: v for k, v in rows[-1].items() if not k.startswith("per_frame")}))
    if alone:
        full = chosen[0]
        for variant, row in zip(chosen, rows):
            if "skipped" not in row and replace(variant, name=full.name, optimizer=full.optimizer) == full:
                row.update(fit_alone(model, batch, variant, iterations, min(alone, num_frames), device))
                tqdm.write(json.dumps({"name": row["name"], "seconds_alone": row["seconds_alone"]}))
    return {
        "command": command,
        "machine": machine_description(),
        "device": device,
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "body_model": getattr(model, "name", "body model"),
        "protocol": {
            "frames": num_frames,
            "seed": seed,
            "source_poses": "corpus test split, frames drawn at random",
            "iterations_per_stage": iterations,
            "synthetic": asdict(synth),
            "metrics": "mean per-frame errors in mm over the 24 joints / all vertices; "
            "'v2v', 'joints': pelvis-aligned; '_pa': after Procrustes (similarity) alignment",
        },
        "variants": rows,
    }


def fit_alone(model, batch, variant: Variant, iterations: int, frames: int, device: str = "cpu") -> dict:
    """Fit the first ``frames`` frames of ``batch`` one at a time: their PA-v2v errors and the seconds taken.

    Set beside the same frames' errors inside the batch (:func:`evaluate_variant`), this measures
    how much a frame's fit depends on its batch mates.

    Raises:
        TypeError, ValueError: as :func:`evaluate_variant`; ``frames`` not an integer in ``[1, len(batch)]``.
    """
    check_positive(frames, "frames", integer=True)
    if frames > len(batch.keypoints):
        raise ValueError(f"frames={frames} but the batch holds {len(batch.keypoints)}; ask for fewer")
    rows = [evaluate_variant(model, batch.subset([i]), variant, iterations, device) for i in range(frames)]
    return {"per_frame_v2v_pa_alone": [r["per_frame_v2v_pa"][0] for r in rows],
            "seconds_alone": round(sum(r["seconds"] for r in rows), 1)}


def benchmark(batch_sizes: tuple[int, ...] = (1, 16, 64), iterations: int = 30, seed: int = 0, device: str = "cpu",
              progress: bool = False) -> list[dict]:
    """Frames fitted per second by full SMPLify (GMM min) for several batch sizes.

    ``progress`` shows a tqdm bar over the batch sizes.

    Raises:
        TypeError, ValueError: ``batch_sizes`` not a non-empty tuple of integers >= 1, ``iterations``
            or ``seed`` not an integer >= 0, an unknown or unavailable ``device``.
    """
    if not isinstance(batch_sizes, (tuple, list)) or not batch_sizes:
        raise ValueError(f"batch_sizes must be a non-empty tuple of integers >= 1; got {batch_sizes!r}")
    for size in batch_sizes:
        check_positive(size, "batch_sizes entry", integer=True)
    check_positive(iterations, "iterations", integer=True, allow_zero=True)
    check_positive(seed, "seed", integer=True, allow_zero=True)
    device = _check_device(device)
    from humanlib.body import load_body_model

    model = load_body_model().to(device)
    out = []
    from tqdm.auto import tqdm

    for b in tqdm(batch_sizes, desc="benchmark", unit="batch", disable=not progress):
        batch = make_synthetic_batch(model.cpu(), corpus_test_poses(b, seed), SyntheticConfig(), seed=seed)
        row = evaluate_variant(model, batch, ABLATION[0], iterations, device)
        out.append({"batch_size": b, "seconds": row["seconds"], "frames_per_second": row["frames_per_second"]})
        tqdm.write(json.dumps(out[-1]))
    return out


#: Keypoint widths ``humanlib fit`` reads as OpenPose keypoints for the SMPL-X-layout model -> their sets.
OPENPOSE_WIDTHS: dict[int, tuple[str, ...]] = {25: ("body",), 67: ("body", "hands"), 118: ("body", "hands", "face")}


def read_keypoints_npz(path: str | Path, openpose: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Keypoints ``(B, 24, 2)`` and confidences ``(B, 24)`` (ones when absent) of an ``.npz``, as float32.

    With ``openpose=True`` the keypoints may also be OpenPose's for the SMPL-X-layout model:
    ``(B, 25 / 67 / 118, 2)`` for body / body + hands / body + hands + face (:data:`OPENPOSE_WIDTHS`).

    Raises:
        FileNotFoundError: ``path`` is missing or a folder.
        ValueError: not a readable ``.npz``, no ``keypoints`` key, wrong shapes, non-numeric or
            non-finite values (missing joints take confidence 0, not NaN), or no frames.
    """
    layout = "'keypoints' (B, 24, 2) pixels and optionally 'confidence' (B, 24)"
    if openpose:
        layout += " (or OpenPose's (B, 25 / 67 / 118, 2) body / +hands / +face keypoints for the SMPL-X model)"
    path = input_file(path, "keypoint file", f"give an .npz holding {layout}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k]) for k in data.files if k in ("keypoints", "confidence")}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"keypoint file {path} is not a readable .npz ({type(err).__name__}); "
                         f"write it with numpy.savez holding {layout}") from None
    if "keypoints" not in arrays:
        raise ValueError(f"keypoint file {path} has no 'keypoints'; it must hold {layout}")
    n = arrays["keypoints"].shape[0] if arrays["keypoints"].ndim else 0
    width = NUM_JOINTS
    kp_shape = arrays["keypoints"].shape
    if openpose and len(kp_shape) == 3 and kp_shape[1] in OPENPOSE_WIDTHS and kp_shape[2] == 2:
        width = kp_shape[1]
    for key, shape in (("keypoints", (n, width, 2)), ("confidence", (n, width))):
        if key not in arrays:
            continue
        a = arrays[key]
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise ValueError(f"'{key}' in {path} must be numeric; got dtype {a.dtype}")
        if a.shape != shape:
            expected = "(B, " + ", ".join(map(str, shape[1:])) + ")"
            what = "one row per SMPL joint" if width == NUM_JOINTS else f"OpenPose's {' + '.join(OPENPOSE_WIDTHS[width])}"
            also = (" or (B, 25 / 67 / 118, 2) (OpenPose's body / +hands / +face, fitted with the SMPL-X model)"
                    if openpose and key == "keypoints" else "")
            raise ValueError(f"'{key}' in {path} must have shape {expected} ({what}){also}; got {a.shape}")
        if not np.isfinite(a.astype(np.float64)).all():
            raise ValueError(f"'{key}' in {path} holds NaN or inf; give missing joints confidence 0 instead")
    if n == 0:
        raise ValueError(f"keypoint file {path} holds no frames (keypoints shape {arrays['keypoints'].shape})")
    kp = torch.as_tensor(arrays["keypoints"], dtype=torch.float32)
    conf = torch.as_tensor(arrays["confidence"], dtype=torch.float32) if "confidence" in arrays else torch.ones(kp.shape[:2])
    return kp, conf


__all__ = ["ABLATION", "EXTRA_VARIANTS", "OPENPOSE_WIDTHS", "PRIOR_NAMES", "Variant", "benchmark",
           "evaluate_variant", "fit_alone", "make_prior", "read_keypoints_npz", "run_ablation", "corpus_poses",
           "corpus_test_poses"]
