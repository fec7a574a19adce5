"""Training Pose-NDF: the loop, validation, resumable checkpoints and the command line.

``humanlib train-posendf --out DIR`` builds the distance-labelled data from the open
corpus (:mod:`humanlib.priors.posendf_data`), trains :class:`~humanlib.priors.posendf.PoseNDF`
with ``udf_weight * L_UDF + eikonal_weight * L_eikonal`` and writes, under ``DIR``:

* ``data.pt`` -- the generated training / validation sets (reused by a later run with the
  same data settings, since the nearest-neighbour labels take minutes);
* ``last.pt`` -- the resumable state (weights, optimizer, step, random state, history);
  ``--resume`` continues from it;
* ``posendf.pt`` -- the final weights (state dict + config + metadata, no optimizer);
* ``history.json`` and ``curves.png`` -- losses and validation error against steps.

``humanlib eval-posendf`` measures a checkpoint (distance accuracy by noise level,
eikonal residual, projection convergence, diversity/plausibility of generated poses,
timings) and writes a JSON file; the chapter reads those numbers.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from humanlib._validate import check_positive, resolve_device
from humanlib.priors.posendf import (
    PROJECTION_METHODS, PoseNDF, PoseNDFModelConfig, ProjectionConfig, _as_path, _check_plain, eikonal_loss,
    mean_pairwise_distance, project, read_checkpoint, save_checkpoint, udf_loss,
)
from humanlib.priors.posendf_data import (
    DistanceDataset,
    PoseNDFDataConfig,
    _check_int,
    _check_quats,
    body_pose_to_quats,
    knn_pose_distance,
    make_distance_dataset,
    mirror_body_quats,
)
from humanlib.priors.training import (
    DataParallel,
    EarlyStopping,
    data_parallel,
    read_training_state,
    restore_training,
    save_atomically,
    training_state,
    write_json_atomically,
)
from humanlib.rotations import random_quat
from humanlib.skeleton import NUM_BODY_JOINTS
from humanlib.priors.posendf_metrics import (  # re-exported: import them from here
    _check_dataset, sigma_breakdown, DISTANCE_BANDS, distance_breakdown, evaluate_field, plot_history,
)


@dataclass
class PoseNDFTrainConfig:
    """Everything a training run depends on.

    Attributes:
        model: the architecture.
        data: how the labelled data is generated.
        num_manifold: training poses (subsampled from the corpus' train split, evenly
            over frames) that form the manifold; 0 = all.
        mirror: add the left-right mirrored copy of every manifold pose
            (:func:`~humanlib.priors.posendf_data.mirror_body_quats`), doubling the manifold.
        num_val: held-out noisy samples (from the val split) for validation.
        steps: optimisation steps.
        batch_size: samples per step.
        lr: Adam learning rate (cosine-decayed to ``lr / 10``).
        weight_decay: decoupled weight decay (AdamW; 0 = plain Adam, the paper's).
        udf_weight: weight of ``L_UDF``.
        eikonal_weight: weight of ``L_eikonal`` (0 switches it off).
        val_every: steps between validations (and resumable checkpoints).
        patience: early stopping: end the run after this many validations without a 0.1 %
            lower validation MAE, and keep the weights of the best validation (0: off, the
            final weights are kept).
        seed: seed of the initialisation and the batch order.
        device: ``"cpu"`` or ``"cuda"``.
        num_threads: CPU threads for torch (the team's machine is shared: 1).
    """

    model: PoseNDFModelConfig = field(default_factory=PoseNDFModelConfig)
    data: PoseNDFDataConfig = field(default_factory=PoseNDFDataConfig)
    num_manifold: int = 20_000
    mirror: bool = False
    num_val: int = 5_000
    steps: int = 5_000
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    udf_weight: float = 1.0
    eikonal_weight: float = 0.1
    val_every: int = 250
    patience: int = 0
    seed: int = 0
    device: str = "cpu"
    num_threads: int = 1

    def __post_init__(self) -> None:
        """Check every field.

        Raises:
            TypeError: a field of the wrong type (``model`` not a :class:`PoseNDFModelConfig`,
                a float ``steps``...).
            ValueError: a field out of range, named in the message; both loss weights 0; an
                unknown device name.
        """
        if not isinstance(self.model, PoseNDFModelConfig):
            raise TypeError(f"model must be a PoseNDFModelConfig; got {type(self.model).__name__}")
        if not isinstance(self.data, PoseNDFDataConfig):
            raise TypeError(f"data must be a PoseNDFDataConfig; got {type(self.data).__name__}")
        for name, minimum in (("num_manifold", 0), ("num_val", 1), ("steps", 0), ("batch_size", 1),
                              ("val_every", 1), ("patience", 0), ("seed", 0), ("num_threads", 1)):
            _check_int(getattr(self, name), name, minimum)
        if not isinstance(self.mirror, bool):
            raise TypeError(f"mirror must be a bool; got {type(self.mirror).__name__}")
        check_positive(self.lr, "lr")
        check_positive(self.weight_decay, "weight_decay", allow_zero=True)
        check_positive(self.udf_weight, "udf_weight", allow_zero=True)
        check_positive(self.eikonal_weight, "eikonal_weight", allow_zero=True)
        if self.udf_weight == 0 and self.eikonal_weight == 0:
            raise ValueError("udf_weight and eikonal_weight are both 0: the loss would be 0 and nothing would train")
        if not isinstance(self.device, str):
            raise TypeError(f"device must be a str such as 'cpu' or 'cuda'; got {type(self.device).__name__}")
        try:
            torch.device(self.device)
        except RuntimeError as exc:
            raise ValueError(f"device {self.device!r} is not a torch device (use 'cpu', 'cuda' or 'cuda:0')") from exc


@dataclass
class TrainResult:
    """Output of :func:`train_posendf`.

    Attributes:
        model: the trained network (eval mode).
        history: one dict per validation: step, elapsed seconds, train losses, validation
            mean absolute error (overall and per noise level), validation eikonal residual.
        seconds: wall time of the optimisation in this call.
    """

    model: PoseNDF
    history: list[dict]
    seconds: float


def standard_val_config(config: PoseNDFTrainConfig) -> PoseNDFDataConfig:
    """The held-out set every checkpoint is measured on: Pose-NDF's noise levels, the run's label.

    ``config.num_val`` noisy poses from the val split, with the talk's :math:`\\sigma` levels and the
    run's label metric; the same seed as the run's own validation set. A run trained with
    ``noise="sigma"`` validates on exactly this set already.

    Raises:
        TypeError: ``config`` is not a :class:`PoseNDFTrainConfig`.
    """
    if not isinstance(config, PoseNDFTrainConfig):
        raise TypeError(f"config must be a PoseNDFTrainConfig; got {type(config).__name__}")
    return PoseNDFDataConfig(**{**asdict(config.data), "noise": "sigma", "num_noisy": config.num_val,
                                "seed": config.data.seed + 1000})


def _lr_at(step: int, config: PoseNDFTrainConfig) -> float:
    t = step / max(config.steps, 1)
    return config.lr * (0.1 + 0.9 * 0.5 * (1 + torch.cos(torch.tensor(t * torch.pi)).item()))


def train_posendf(
    train: DistanceDataset,
    val: DistanceDataset | None,
    config: PoseNDFTrainConfig,
    out_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    metadata: dict | None = None,
    stop_at: int | None = None,
) -> TrainResult:
    """Train a Pose-NDF on labelled poses.

    Under ``torchrun`` each worker trains on its shard of every batch of ``config.batch_size``
    samples (:class:`~humanlib.priors.training.DataParallel`), so the run follows the one-process
    run to float round-off; rank 0 writes the files.

    Args:
        train: training samples (clean poses with ``d = 0`` and noisy ones).
        val: held-out samples for validation (``None``: no validation).
        config: the run's settings.
        out_dir: where ``last.pt``, ``posendf.pt``, ``history.json`` go (``None``: nothing
            is written -- for short runs in the chapter and the tests).
        resume: continue from ``out_dir/last.pt``.
        progress: show a tqdm progress bar.
        metadata: facts stored in the checkpoints (command line, data sizes...).
        stop_at: end this call after that many steps (the schedule still spans
            ``config.steps``); a later call with ``resume=True`` continues.

    Returns:
        :class:`TrainResult`.

    Raises:
        TypeError: ``train`` / ``val`` not :class:`DistanceDataset`, ``config`` not a
            :class:`PoseNDFTrainConfig`, ``out_dir`` not a path, ``metadata`` not a dict of
            plain values, ``stop_at`` not an integer.
        ValueError: an empty ``train`` or ``val`` (pass ``val=None`` for no validation),
            poses of another joint count than the model, a ``cuda`` device without a GPU,
            ``out_dir`` that is a file, ``resume`` without ``out_dir``, a ``last.pt`` of
            another architecture, other settings or data, or without the resumable state; more
            torchrun workers than samples in a batch, or a batch that does not split evenly over them.
        FileNotFoundError: ``resume=True`` and ``out_dir/last.pt`` does not exist.
    """
    from tqdm.auto import tqdm

    out = _check_train_inputs(train, val, config, out_dir, resume, metadata, stop_at)
    resolve_device(config.device)  # a GPU asked for but absent: a clear error before any work
    dp = data_parallel(config.device, config.batch_size)  # rank 0 of 1, or this worker of torchrun's
    device = torch.device(dp.device)
    if config.device == "cpu":
        torch.set_num_threads(config.num_threads)
    torch.manual_seed(config.seed)
    model = PoseNDF(config.model).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)  # 0: Adam
    batches = torch.Generator().manual_seed(config.seed + 1)
    run = _Run(stopping=EarlyStopping(config.patience))
    meta = {"train_config": asdict(config), **(metadata or {}), **({"world_size": dp.world_size} if dp.active else {})}
    if resume:
        run = _resume(out, config, metadata or {}, model, optimizer, batches)

    t0 = time.perf_counter()
    elapsed_before = run.history[-1]["elapsed_s"] if run.history else 0.0
    end = config.steps if stop_at is None else min(stop_at, config.steps)
    bar = tqdm(range(run.step, end), disable=not progress or not dp.is_main, desc="train-posendf", initial=run.step,
               total=config.steps)
    quats, dist = train.quats.to(device), train.distance.to(device)
    sums, count = {"udf": 0.0, "eikonal": 0.0}, 0
    for step in bar:
        l_udf, l_eik = _train_step(model, optimizer, quats, dist, step, config, batches, dp)
        sums["udf"] += l_udf
        sums["eikonal"] += l_eik
        count += 1
        done = step + 1
        if done % config.val_every == 0 or done == end:
            means = dp.mean({k: v / count for k, v in sums.items()})  # the mean over every worker's samples
            row = {"step": done, "elapsed_s": elapsed_before + time.perf_counter() - t0,
                   "train_udf": means["udf"], "train_eikonal": means["eikonal"]}
            sums, count = {"udf": 0.0, "eikonal": 0.0}, 0
            if val is not None:
                _validate(model, val, row, run, done, config)
            run.history.append(row)
            run.step = done
            bar.set_postfix(udf=f"{row['train_udf']:.4f}", val=f"{row.get('val_mae', float('nan')):.4f}")
            if out is not None and dp.is_main:
                _save_state(out / "last.pt", model, optimizer, batches, run, meta)
            if run.stopped_early:
                break
    bar.close()
    seconds = time.perf_counter() - t0
    finished = end == config.steps or run.stopped_early
    if run.best_state is not None and finished:
        model.load_state_dict(run.best_state)  # the weights of the best validation
    model.eval()
    if out is not None and finished and dp.is_main:
        stop_info = {"best_step": run.stopping.at, "best_val_mae": run.stopping.best,
                     "stop_reason": "early_stopping" if run.stopped_early else "max_steps"}
        save_checkpoint(out / "posendf.pt", model, {**meta, **(stop_info if config.patience else {}), "history": run.history})
        write_json_atomically(run.history, out / "history.json")
    return TrainResult(model=model, history=run.history, seconds=seconds)


def _check_train_inputs(train, val, config, out_dir, resume, metadata, stop_at) -> Path | None:
    """The checks of :func:`train_posendf`; returns ``out_dir`` as a Path (or None)."""
    if not isinstance(config, PoseNDFTrainConfig):
        raise TypeError(f"config must be a PoseNDFTrainConfig; got {type(config).__name__}")
    if isinstance(train, DistanceDataset) and len(train) == 0:
        raise ValueError("the training set is empty (train has no samples)")
    _check_dataset(train, "train", config.model.num_joints)
    if val is not None:
        _check_dataset(val, "val (pass val=None for no validation)", config.model.num_joints)
    if stop_at is not None:
        _check_int(stop_at, "stop_at", 0)
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict or None; got {type(metadata).__name__}")
    _check_plain(metadata or {}, "metadata")
    if out_dir is not None:
        out_dir = _as_path(out_dir, "out_dir")
        if out_dir.exists() and not out_dir.is_dir():
            raise ValueError(f"out_dir {out_dir} is a file; give a folder for last.pt, posendf.pt and history.json")
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir, the folder that holds last.pt")
    return Path(out_dir) if out_dir is not None else None


@dataclass
class _Run:
    """What a resumed run continues from: the step, the history and the early stopping's state."""

    stopping: EarlyStopping
    step: int = 0
    history: list[dict] = field(default_factory=list)
    best_state: dict | None = None
    stopped_early: bool = False


def _train_step(model: PoseNDF, optimizer, quats: torch.Tensor, dist: torch.Tensor, step: int,
                config: PoseNDFTrainConfig, batches: torch.Generator, dp: DataParallel) -> tuple[float, float]:
    """One optimisation step on this worker's shard of the step's batch; returns its (L_UDF, L_eikonal).

    Every worker draws the same global batch; with several workers, each one's eikonal term is
    weighted by its share of the batch's ``d != 0`` samples, so that the averaged gradient is the
    gradient of the global batch's loss (``L_eikonal`` averages over the ``d != 0`` samples only).
    """
    for group in optimizer.param_groups:
        group["lr"] = _lr_at(step, config)
    idx_all = torch.randint(len(quats), (config.batch_size,), generator=batches).to(quats.device)
    idx = dp.shard(idx_all)
    q = quats[idx].requires_grad_(True)
    f = model(q)
    # With the eikonal term off, the gradient is still computed (it is logged), but
    # without a graph of its own; retain_graph keeps f's graph for loss.backward().
    (grad,) = torch.autograd.grad(f.sum(), q, create_graph=config.eikonal_weight > 0, retain_graph=True)
    l_udf = udf_loss(f, dist[idx])
    l_eik = eikonal_loss(grad, dist[idx])
    if dp.active:
        nonzero_all = int((dist[idx_all] != 0).sum())
        if nonzero_all:
            l_eik = l_eik * (int((dist[idx] != 0).sum()) * dp.world_size / nonzero_all)
    loss = config.udf_weight * l_udf + (config.eikonal_weight * l_eik if config.eikonal_weight > 0 else 0.0)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    dp.average_gradients(model.parameters())
    optimizer.step()
    return float(l_udf.detach()), float(l_eik.detach())


def _validate(model: PoseNDF, val: DistanceDataset, row: dict, run: _Run, done: int, config: PoseNDFTrainConfig) -> None:
    """Add the validation entries to ``row``; update the early stopping and the best weights."""
    model.eval()
    metrics = evaluate_field(model, val)
    model.train()
    row.update({"val_mae": metrics["mae"], "val_mae_by_sigma": metrics["mae_by_sigma"],
                "val_mae_by_distance": metrics["mae_by_distance"],
                "val_eikonal_residual": metrics["eikonal_residual"]})
    if config.patience:
        if run.stopping.update(metrics["mae"], done):
            run.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        run.stopped_early = run.stopping.should_stop


#: The settings a resumed run must share with the saved one (``steps`` may grow: a longer run).
_RESUME_SETTINGS = ("batch_size", "lr", "weight_decay", "udf_weight", "eikonal_weight", "val_every", "patience",
                    "seed", "data", "num_manifold", "mirror", "num_val")


def _run_facts(train_config: dict, metadata: dict) -> dict:
    """The facts :func:`~humanlib.priors.training.check_same_run` compares (from a config and metadata)."""
    return {"architecture": {"model": train_config.get("model")},
            "settings": {k: train_config[k] for k in _RESUME_SETTINGS if k in train_config},
            "data": {k: metadata[k] for k in ("corpus", "data_fingerprint") if metadata.get(k) is not None}}


def _save_state(path: Path, model: PoseNDF, optimizer, batches: torch.Generator, run: _Run, meta: dict) -> None:
    extra = {**training_state(optimizer, {"batches": batches}), "step": run.step,
             "history_json": json.dumps(run.history), "stopping": run.stopping.state_dict(),
             "stopped_early": run.stopped_early}
    if run.best_state is not None:
        extra["best_state"] = run.best_state
    save_checkpoint(path, model, meta, extra)


def _resume(out: Path | None, config: PoseNDFTrainConfig, metadata: dict, model: PoseNDF, optimizer,
            batches: torch.Generator) -> _Run:
    """Load ``out/last.pt`` into the model, optimiser and generators; the run's step, history, early stopping."""
    path = out / "last.pt"  # out is set: _check_train_inputs refuses resume without out_dir
    state = read_training_state(path, "Pose-NDF training state",
                                ("optimizer", "rng", "step", "history_json", "stopping", "stopped_early"),
                                reader=read_checkpoint)
    restore_training(path, state, _run_facts(state["metadata"].get("train_config", {}), state["metadata"]),
                     _run_facts(asdict(config), metadata), model=model, weights=state["state_dict"],
                     optimizer=optimizer, generators={"batches": batches})
    run = _Run(stopping=EarlyStopping(config.patience), step=int(state["step"]),
               history=json.loads(state["history_json"]), best_state=state.get("best_state"),
               stopped_early=bool(state["stopped_early"]))
    run.stopping.load_state_dict(state["stopping"])
    return run


# --------------------------------------------------------------------------- corpus -> data


def corpus_quats(split: str, num: int = 0) -> torch.Tensor:
    """Body-joint quaternions of a corpus split, ``num`` poses evenly spaced over its frames (0 = all).

    Returns:
        ``(N, 21, 4)`` canonical quaternions.

    Raises:
        TypeError: ``num`` is not an integer.
        ValueError: an unknown split, ``num < 0``.
    """
    from humanlib.data import load_corpus
    from humanlib.data.corpus import SPLITS

    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    _check_int(num, "num", 0)

    poses = torch.as_tensor(load_corpus(split).poses, dtype=torch.float32)
    if num and num < poses.shape[0]:
        poses = poses[torch.linspace(0, poses.shape[0] - 1, num).round().long()]
    return body_pose_to_quats(poses)


def training_manifold(config: PoseNDFTrainConfig | dict) -> torch.Tensor:
    """The manifold poses of a run: ``config.num_manifold`` train poses (0: all), and their
    mirrored copies after them when ``config.mirror``.

    Args:
        config: the run's :class:`PoseNDFTrainConfig`, or a checkpoint's
            ``metadata["train_config"]`` dict (what ``load_posendf(...).metadata`` holds).

    Raises:
        TypeError: ``config`` is neither.
        ValueError: a dict without ``num_manifold``.
    """
    if isinstance(config, dict):
        if "num_manifold" not in config:
            raise ValueError("config has no 'num_manifold' (give a checkpoint's metadata['train_config'])")
        num, mirror = config["num_manifold"], bool(config.get("mirror", False))
    elif isinstance(config, PoseNDFTrainConfig):
        num, mirror = config.num_manifold, config.mirror
    else:
        raise TypeError(f"config must be a PoseNDFTrainConfig or a checkpoint's train_config dict; got {type(config).__name__}")
    manifold = corpus_quats("train", num)
    return torch.cat([manifold, mirror_body_quats(manifold)]) if mirror else manifold


def _key_difference(stored_json: str, key: dict) -> str:
    """The settings where a stored cache key differs from ``key``, as ``name: stored != wanted``."""
    try:
        stored = json.loads(stored_json)
    except (TypeError, ValueError):
        return "unreadable key"

    def flat(d: dict, prefix: str = "") -> dict:
        out = {}
        for name, value in d.items():
            out.update(flat(value, f"{prefix}{name}.") if isinstance(value, dict) else {f"{prefix}{name}": value})
        return out

    a, b = flat(stored) if isinstance(stored, dict) else {}, flat(json.loads(json.dumps(key)))
    diffs = [f"{k}: {a.get(k)!r} != {b.get(k)!r}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return "; ".join(diffs) or "same settings"


def build_datasets(
    config: PoseNDFTrainConfig, cache: Path | None = None, rebuild: bool = True
) -> tuple[torch.Tensor, DistanceDataset, DistanceDataset]:
    """The manifold, the training set and the validation set of a run (cached in ``cache``).

    A cache file made for other data settings is rebuilt and overwritten, unless ``rebuild`` is
    false: then it is refused (``eval-posendf --data`` must read the run's own data, never make new).

    Raises:
        TypeError: ``config`` is not a :class:`PoseNDFTrainConfig`, ``cache`` not a path.
        ValueError: ``cache`` is a folder, or a damaged file (the message says to delete it), or,
            with ``rebuild=False``, made for other settings (the message names them).
    """
    if not isinstance(config, PoseNDFTrainConfig):
        raise TypeError(f"config must be a PoseNDFTrainConfig; got {type(config).__name__}")
    if cache is not None:
        cache = _as_path(cache, "cache")
        if cache.is_dir():
            raise ValueError(f"cache {cache} is a folder; give a file such as {cache / 'data.pt'}")
    key = {"data": asdict(config.data), "num_manifold": config.num_manifold, "num_val": config.num_val}
    if config.mirror:  # absent for unmirrored runs, so their caches stay valid
        key["mirror"] = True
    if cache is not None and cache.is_file():
        fix = f"delete {cache} and it is rebuilt (this takes minutes)"
        try:
            stored = torch.load(cache, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises several types for damaged files
            raise ValueError(f"data cache {cache} is not readable (corrupt or truncated?): {type(exc).__name__}; {fix}") from exc
        if not isinstance(stored, dict) or "key_json" not in stored:
            raise ValueError(f"{cache} is not a Pose-NDF data cache (no 'key_json' entry); {fix}")
        if stored["key_json"] == json.dumps(key, sort_keys=True):
            try:
                return stored["manifold"], DistanceDataset(*stored["train"]), DistanceDataset(*stored["val"])
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"data cache {cache} is damaged ({type(exc).__name__}: {exc}); {fix}") from exc
        if not rebuild:
            raise ValueError(f"data cache {cache} was made for other settings than these ({_key_difference(stored['key_json'], key)}); "
                             "give the --data file of the run that trained this checkpoint, or none to rebuild it")
    manifold = training_manifold(config)
    t0 = time.perf_counter()
    train = make_distance_dataset(manifold, config.data)
    val_cfg = PoseNDFDataConfig(**{**asdict(config.data), "num_noisy": config.num_val, "seed": config.data.seed + 1000})
    val = make_distance_dataset(manifold, val_cfg, queries_from=corpus_quats("val"))
    seconds = time.perf_counter() - t0
    if cache is not None:
        save_atomically({"key_json": json.dumps(key, sort_keys=True), "manifold": manifold, "seconds": seconds,
                         "train": (train.quats, train.distance, train.sigma), "val": (val.quats, val.distance, val.sigma)},
                        cache)
    return manifold, train, val


# --------------------------------------------------------------------------- command line


def evaluate_checkpoint(
    model: PoseNDF,
    manifold: torch.Tensor,
    val: DistanceDataset,
    num_generate: int = 500,
    seed: int = 0,
    train: DistanceDataset | None = None,
    progress: bool = False,
) -> dict:
    """The chapter's measurements for one model (``progress``: a tqdm bar over the measurements).

    Returns:
        dict with the field accuracy on ``val`` (``field``) and on 5,000 training samples
        (``field_train``, when ``train`` is given), projection of noisy held-out poses and of
        uniformly random poses (convergence, steps, final ``f`` and true distance) by Pose-NDF's
        step (``project_noisy_val``, ``project_random``) and NRDF's (``..._nrdf``), the generated poses'
        diversity (mean pairwise distance) and plausibility (talk distance to the nearest
        training pose), and the same diversity for the training poses themselves.

    Raises:
        TypeError: ``model`` is not a :class:`PoseNDF`, ``manifold`` not a tensor, ``val`` /
            ``train`` not :class:`DistanceDataset`, ``num_generate`` / ``seed`` not integers.
        ValueError: a model of other than 21 joints, a manifold of fewer than 2 poses or of
            another joint count, empty datasets, ``num_generate < 2``.
    """
    if not isinstance(model, PoseNDF):
        raise TypeError(f"model must be a PoseNDF; got {type(model).__name__}")
    if model.config.num_joints != NUM_BODY_JOINTS:
        raise ValueError(f"model must be a Pose-NDF of the {NUM_BODY_JOINTS} body joints; it has {model.config.num_joints}")
    _check_quats(manifold, "manifold")
    if manifold.shape[1] != NUM_BODY_JOINTS or manifold.shape[0] < 2:
        raise ValueError(f"manifold must have shape (M >= 2, {NUM_BODY_JOINTS}, 4); got {tuple(manifold.shape)}")
    _check_dataset(val, "val", NUM_BODY_JOINTS)
    if train is not None:
        _check_dataset(train, "train", NUM_BODY_JOINTS)
    _check_int(num_generate, "num_generate", 2)
    _check_int(seed, "seed", 0)
    from tqdm.auto import tqdm

    bar = tqdm(total=3 + (train is not None), desc="eval-posendf: field on val", unit="step", disable=not progress)
    g = torch.Generator().manual_seed(seed)
    out: dict = {"field": evaluate_field(model, val)}
    bar.update(1)
    if train is not None:
        bar.set_description("eval-posendf: field on train")
        idx = torch.randperm(len(train), generator=g)[:5000]
        out["field_train"] = evaluate_field(model, DistanceDataset(train.quats[idx], train.distance[idx], train.sigma[idx]))
        bar.update(1)
    starts = (("noisy_val", val.quats[torch.randperm(len(val), generator=g)[:num_generate]]),
              ("random", random_quat(num_generate, NUM_BODY_JOINTS, generator=g)))
    for name, start in starts:
        bar.set_description(f"eval-posendf: projecting {name} poses")
        true_before = knn_pose_distance(start, manifold).distance
        for method in PROJECTION_METHODS:  # Pose-NDF's gradient step, NRDF's adaptive step
            res = project(model, start, ProjectionConfig(max_steps=100, tolerance=1e-3, record_trajectory=False,
                                                         method=method))
            true_after = knn_pose_distance(res.quats, manifold).distance
            out[f"project_{name}" + ("" if method == "posendf" else f"_{method}")] = {
                "method": method,
                "converged_fraction": float(res.converged.float().mean()),
                "median_steps": float(res.steps.float().median()),
                "mean_steps": float(res.steps.float().mean()),
                "f_before_mean": float(res.distance_history[0].mean()),
                "f_after_mean": float(res.distance.mean()),
                "true_distance_before_mean": float(true_before.mean()),
                "true_distance_after_mean": float(true_after.mean()),
                "diversity_after": float(mean_pairwise_distance(res.quats)),
            }
        bar.update(1)
    bar.close()
    out["diversity_training_poses"] = float(mean_pairwise_distance(manifold[torch.randperm(len(manifold), generator=g)[:num_generate]]))
    return out


