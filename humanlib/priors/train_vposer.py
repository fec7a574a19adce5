"""Training VPoser on the open corpus: the loop, resumable checkpoints and the command line.

``humanlib train-vposer --out DIR`` trains on the corpus's train split, validates on the val
split after every epoch, stops early when the validation loss stops improving, and writes into
``DIR``:

* ``last.pt``: the full training state (model, optimiser, scheduler, random-number generators,
  history), rewritten after every epoch; ``--resume`` continues from it;
* ``best.pt``: the model of the best validation epoch, a checkpoint for
  :func:`humanlib.priors.vposer.load_vposer`;
* ``history.json``: the training curve (one record per epoch) and the run's command,
  machine, thread count and wall-clock time.

Runs are reproducible for a given seed, device and thread count: the initial weights,
the shuffling, the dropout masks and the reparameterisation noise come from seeded generators
whose states are saved in ``last.pt``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from humanlib import rotations
from humanlib._validate import check_positive, resolve_device
from humanlib.provenance import machine_description, poses_fingerprint  # re-exported under their old home
from humanlib.priors.vposer import (
    BodyForward,
    VPoser,
    VPoserConfig,
    VPoserLossConfig,
    _check_metadata,
    _check_vposer,
    as_body_pose,
    read_checkpoint_file,
    save_vposer,
    vposer_checkpoint,
    vposer_from_checkpoint,
    vposer_loss,
)

TRAINING_STATE_FORMAT = "humanlib.vposer-training"


@dataclass
class TrainConfig:
    """Settings of a VPoser training run.

    Attributes:
        epochs: Maximum number of epochs.
        batch_size: Poses per optimisation step.
        lr: Adam learning rate.
        lr_decay_factor: Factor applied to the learning rate when the validation loss plateaus.
        lr_decay_patience: Epochs without improvement before the learning rate decays.
        early_stop_patience: Epochs without improvement before training stops.
        min_improvement: Relative decrease of the validation loss that counts as an improvement.
        seed: Seed of the weights, shuffling, dropout and sampling noise.
        max_minutes: Stop after the first epoch that ends past this wall-clock budget (None: no limit).
        max_train_frames: Use a random subset of this many training poses (None: all).
        max_val_frames: Use a random subset of this many validation poses (None: all).
        model: The architecture.
        loss: The loss weights (:meth:`~humanlib.priors.vposer.VPoserLossConfig.talk` or
            :meth:`~humanlib.priors.vposer.VPoserLossConfig.released`).
    """

    epochs: int = 100
    batch_size: int = 256
    lr: float = 1e-3
    lr_decay_factor: float = 0.5
    lr_decay_patience: int = 2
    early_stop_patience: int = 5
    min_improvement: float = 1e-3
    seed: int = 0
    max_minutes: float | None = None
    max_train_frames: int | None = None
    max_val_frames: int | None = None
    model: VPoserConfig = field(default_factory=VPoserConfig)
    loss: VPoserLossConfig = field(default_factory=VPoserLossConfig)

    def __post_init__(self) -> None:
        """Raises ``ValueError`` / ``TypeError`` naming the field that is out of range or of the wrong type."""
        for name in ("epochs", "batch_size", "lr_decay_patience", "early_stop_patience"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TrainConfig.{name} must be a positive int, got {value!r}")
        if self.batch_size < 2:
            raise ValueError(f"TrainConfig.batch_size must be >= 2 (BatchNorm), got {self.batch_size}")
        for name in ("lr", "lr_decay_factor", "min_improvement", "max_minutes"):
            value = getattr(self, name)
            if value is None and name == "max_minutes":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"TrainConfig.{name} must be a number, got {type(value).__name__} {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"TrainConfig.{name} must be finite, got {value!r}")
        if not self.lr > 0:
            raise ValueError(f"TrainConfig.lr must be > 0, got {self.lr!r}")
        if not 0 < self.lr_decay_factor < 1:
            raise ValueError(f"TrainConfig.lr_decay_factor must be in (0, 1) (the learning rate is multiplied "
                             f"by it on a plateau), got {self.lr_decay_factor!r}")
        if not 0 <= self.min_improvement < 1:
            raise ValueError(f"TrainConfig.min_improvement must be in [0, 1) (a relative decrease), got {self.min_improvement!r}")
        if self.max_minutes is not None and not self.max_minutes > 0:
            raise ValueError(f"TrainConfig.max_minutes must be > 0 or None, got {self.max_minutes!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f"TrainConfig.seed must be an int, got {type(self.seed).__name__} {self.seed!r}")
        for name in ("max_train_frames", "max_val_frames"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"TrainConfig.{name} must be a positive int or None, got {value!r}")
        if self.max_train_frames is not None and self.max_train_frames < self.batch_size:
            raise ValueError(f"TrainConfig.max_train_frames={self.max_train_frames} is smaller than "
                             f"batch_size={self.batch_size}: not one training step per epoch")
        if not isinstance(self.model, VPoserConfig):
            raise TypeError(f"TrainConfig.model must be a VPoserConfig, got {type(self.model).__name__}")
        if not isinstance(self.loss, VPoserLossConfig):
            raise TypeError(f"TrainConfig.loss must be a VPoserLossConfig (e.g. VPoserLossConfig.talk()), "
                            f"got {type(self.loss).__name__}")

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """Inverse of ``dataclasses.asdict`` (used when resuming).

        Raises:
            TypeError: ``data`` (or its ``model`` / ``loss`` entry) is not a dict.
            ValueError: unknown or missing fields (named), or invalid values.
        """
        if not isinstance(data, dict):
            raise TypeError(f"data must be a dict (dataclasses.asdict of a TrainConfig); got {type(data).__name__}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"TrainConfig has no fields {unknown} (saved by another version?); known: {sorted(known)}")
        data = dict(data)
        for name, kind in (("model", VPoserConfig), ("loss", VPoserLossConfig)):
            if name not in data:
                continue
            part = data[name]
            if isinstance(part, kind):
                continue
            if not isinstance(part, dict):
                raise TypeError(f"TrainConfig.{name} must be given as a dict of {kind.__name__} fields; got {type(part).__name__}")
            extra = sorted(set(part) - set(kind.__dataclass_fields__))
            if extra:
                raise ValueError(f"TrainConfig.{name}: {kind.__name__} has no fields {extra}")
            data[name] = kind(**part)
        return cls(**data)


@dataclass
class EpochRecord:
    """One point of the training curve.

    Attributes:
        epoch: 1-based epoch number.
        lr: Learning rate used during the epoch.
        train: Mean of each loss term over the epoch's batches (``total``, ``kl``, ``rotmat``, ...).
        val: Each loss term on the validation split, with ``z`` = the encoder mean.
        val_deg: Mean geodesic reconstruction error per joint on the validation split (degrees).
        elapsed_s: Wall-clock seconds since the start of training (cumulative over resumes).
        cpu_s: CPU seconds of the training process since the start (cumulative over resumes; on a
            shared machine this, not ``elapsed_s``, is the compute the run used).
    """

    epoch: int
    lr: float
    train: dict[str, float]
    val: dict[str, float]
    val_deg: float
    elapsed_s: float
    cpu_s: float = 0.0


@dataclass
class TrainResult:
    """Outcome of :func:`train_vposer`.

    Attributes:
        model: The model of the best validation epoch (eval mode).
        history: The training curve.
        best_epoch: Epoch of the best validation loss.
        best_val: Best validation loss.
        stop_reason: ``"max_epochs"``, ``"early_stopping"`` or ``"time_budget"``.
        elapsed_s: Total training wall-clock time in seconds (over all resumes).
    """

    model: VPoser
    history: list[EpochRecord]
    best_epoch: int
    best_val: float
    stop_reason: str
    elapsed_s: float


def _subset(poses: torch.Tensor, limit: int | None, generator: torch.Generator) -> torch.Tensor:
    if limit is None or poses.shape[0] <= limit:
        return poses
    idx = torch.randperm(poses.shape[0], generator=generator)[:limit]
    return poses[idx.sort().values]


@torch.no_grad()
def evaluate(
    model: VPoser,
    poses: torch.Tensor,
    loss_config: VPoserLossConfig,
    epoch: int = 0,
    body_forward: BodyForward | None = None,
    chunk: int = 4096,
) -> tuple[dict[str, float], float]:
    """Validation loss terms (``z`` = encoder mean) and mean geodesic error per joint in degrees.

    Args:
        model: The VPoser (put in eval mode here; its mode is restored afterwards).
        poses: ``(N, 21, 3)`` axis-angle.
        loss_config: Loss weights.
        epoch: Epoch number (for ``extra_terms_until_epoch``).
        body_forward: Body for the vertex / joint terms, if they are on.
        chunk: Poses per forward pass.

    Returns:
        ``(terms, degrees)``: every loss term averaged over the poses, and the error in degrees.

    Raises:
        ValueError: a ``model`` or ``loss_config`` of the wrong type, ``poses`` that are
            not a finite non-empty ``(N, 21, 3)`` batch on the model's device, a ``chunk`` < 1
            (``TypeError`` for an argument of the wrong type).
    """
    _check_vposer(model)
    if not isinstance(loss_config, VPoserLossConfig):
        raise TypeError(f"loss_config must be a VPoserLossConfig; got {type(loss_config).__name__}")
    check_positive(chunk, "chunk", integer=True)
    poses = as_body_pose(poses, model.config.num_joints, "poses")
    was_training = model.training
    model.eval()
    sums: dict[str, float] = {}
    deg_sum = 0.0
    n = poses.shape[0]
    for start in range(0, n, chunk):
        batch = poses[start:start + chunk]
        loss = vposer_loss(model, batch, loss_config, epoch, body_forward, sample=False)
        for k, v in loss.as_floats().items():
            sums[k] = sums.get(k, 0.0) + v * batch.shape[0]
        rec = model.decode(model.encode(batch).mean).rotmat
        ang = rotations.rotmat_geodesic_distance(rotations.axis_angle_to_rotmat(batch), rec)
        deg_sum += float(torch.rad2deg(ang).mean(-1).sum())
    model.train(was_training)
    return {k: v / n for k, v in sums.items()}, deg_sum / n


def _training_state(model, optimizer, scheduler, generator, history, epoch, best, config, elapsed, data) -> dict:
    return {
        "format": TRAINING_STATE_FORMAT,
        "format_version": 1,
        "train_config": asdict(config),
        "model": vposer_checkpoint(model),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "shuffle_rng": generator.get_state(),
        "history": [asdict(h) for h in history],
        "epoch": epoch,
        "best": dict(best),
        "elapsed_s": elapsed,
        "data": data,
    }


#: The run facts a resumed run must share with the saved one (which data it trains on).
_DATA_KEYS = ("corpus_train_fingerprint", "corpus_val_fingerprint", "train_mirrored", "train_frames", "val_frames")


def _data_facts(info: dict) -> dict:
    return {k: info[k] for k in _DATA_KEYS if k in info}


def _check_same_data(state: dict, info: dict, path: Path) -> None:
    """A resumed run must train on the data the saved run trained on."""
    saved, now = state.get("data", {}), _data_facts(info)
    differ = {k: (saved[k], now[k]) for k in saved.keys() & now.keys() if saved[k] != now[k]}
    if differ:
        text = ", ".join(f"{k} {a!r} in the saved run, now {b!r}" for k, (a, b) in sorted(differ.items()))
        raise ValueError(f"cannot resume {path}: it was trained on other data ({text}); "
                         "train again in a new --out folder, without --resume")


def _resume_state(path: Path, config: TrainConfig) -> dict:
    state = read_checkpoint_file(path)
    if state.get("format") != TRAINING_STATE_FORMAT:
        raise ValueError(f"{path} is not a VPoser training state (format {state.get('format')!r}); "
                         "resume from the last.pt that `humanlib train-vposer` wrote, or start without resume")
    required = {"train_config", "model", "optimizer", "scheduler", "torch_rng", "shuffle_rng", "history",
                "epoch", "best", "elapsed_s"}
    missing = sorted(required - set(state))
    if missing:
        raise ValueError(f"{path} is an incomplete VPoser training state: missing entries {missing}; "
                         "start a new run in another folder")
    try:
        saved = TrainConfig.from_dict(state["train_config"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot resume {path}: its train_config is not readable by this version ({exc})") from exc
    for name in ("model", "loss", "batch_size", "seed", "max_train_frames", "max_val_frames"):
        if getattr(saved, name) != getattr(config, name):
            raise ValueError(
                f"cannot resume {path}: {name} was {getattr(saved, name)!r} in the saved run, "
                f"now {getattr(config, name)!r}"
            )
    return state


def _write_history(out_dir: Path, history: list[EpochRecord], info: dict) -> None:
    payload = dict(info, history=[asdict(h) for h in history])
    tmp = out_dir / "history.json.tmp"
    tmp.write_text(json.dumps(payload, indent=1))
    tmp.replace(out_dir / "history.json")


def train_vposer(
    train_poses: torch.Tensor,
    val_poses: torch.Tensor,
    config: TrainConfig | None = None,
    out_dir: str | Path | None = None,
    resume: bool = False,
    device: str | torch.device = "cpu",
    body_forward: BodyForward | None = None,
    progress: bool = True,
    run_info: dict | None = None,
    verbose: bool = False,
) -> TrainResult:
    """Train a VPoser with Adam, validation every epoch, LR decay on plateau and early stopping.

    Args:
        train_poses: ``(N, 21, 3)`` (or ``(N, 24, 3)``) axis-angle training poses.
        val_poses: ``(M, 21, 3)`` validation poses.
        config: Training settings (default :class:`TrainConfig`).
        out_dir: Folder for ``last.pt`` / ``best.pt`` / ``history.json``; None keeps everything in memory.
        resume: Continue from ``out_dir/last.pt``.
        device: ``"cpu"`` or ``"cuda"``.
        body_forward: Body for the vertex / joint loss terms (required when they are on).
        progress: Show a tqdm progress bar over each epoch's batches.
        run_info: Extra plain values stored in ``history.json`` and the checkpoint metadata
            (command line, machine, ...).
        verbose: Print one line per epoch (losses, validation error, learning rate, time).

    Returns:
        The best model and the training curve.

    Raises:
        TypeError: a ``config``, ``body_forward`` or ``run_info`` of the wrong type.
        ValueError: ``train_poses`` / ``val_poses`` that are empty, hold NaN / inf or have the
            wrong shape; fewer training poses than ``batch_size``; an unknown or unavailable
            ``device``; an ``out_dir`` that is a file or already holds a run (without ``resume``).
        FileNotFoundError: ``resume`` without ``out_dir/last.pt``.
    """
    if config is not None and not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig or None; got {type(config).__name__}")
    config = config or TrainConfig()
    if body_forward is not None and not callable(body_forward):
        raise TypeError(f"body_forward must be callable (see body_forward_from_model); got {type(body_forward).__name__}")
    for name, flag in (("resume", resume), ("progress", progress), ("verbose", verbose)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be a bool; got {type(flag).__name__}")
    _check_metadata(run_info, "run_info")  # it goes into the checkpoint's metadata
    resolve_device(device)
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir (the folder holding last.pt)")
    if out_dir is not None and not isinstance(out_dir, (str, Path)):
        raise TypeError(f"out_dir must be a str, Path or None; got {type(out_dir).__name__}")
    if out_dir is not None and Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise ValueError(f"out_dir {out_dir} is a file; give a folder for last.pt / best.pt / history.json")
    train_poses = as_body_pose(train_poses, config.model.num_joints, "train_poses").float()
    val_poses = as_body_pose(val_poses, config.model.num_joints, "val_poses").float()
    if train_poses.shape[0] < config.batch_size:
        raise ValueError(f"need at least batch_size={config.batch_size} training poses, got {train_poses.shape[0]}")
    if config.loss.needs_body and body_forward is None:
        raise ValueError("the loss config uses vertex/joint terms: pass body_forward (a body model)")
    device = torch.device(device)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        if (out / "last.pt").exists() and not resume:
            raise ValueError(f"{out} already holds a training run (last.pt): pass resume=True / --resume, or another folder")
        if resume and not (out / "last.pt").exists():
            raise FileNotFoundError(f"nothing to resume: {out / 'last.pt'} does not exist")

    subset_gen = torch.Generator().manual_seed(config.seed + 1)
    train_poses = _subset(train_poses, config.max_train_frames, subset_gen).to(device)
    val_poses = _subset(val_poses, config.max_val_frames, subset_gen).to(device)

    torch.manual_seed(config.seed)
    model = VPoser(config.model).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, factor=config.lr_decay_factor, patience=config.lr_decay_patience - 1,
        threshold=config.min_improvement,
    )
    shuffle_gen = torch.Generator().manual_seed(config.seed + 2)
    history: list[EpochRecord] = []
    best = {"val": math.inf, "epoch": 0, "bad_epochs": 0}
    start_epoch, elapsed_before = 0, 0.0
    if resume:
        state = _resume_state(out / "last.pt", config)
        saved_model, _ = vposer_from_checkpoint(state["model"], str(out / "last.pt"))
        model.load_state_dict(saved_model.state_dict(), strict=True)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        shuffle_gen.set_state(state["shuffle_rng"])
        history = [EpochRecord(**h) for h in state["history"]]
        best = dict(state["best"])
        start_epoch, elapsed_before = int(state["epoch"]), float(state["elapsed_s"])
    info = dict(run_info or {}, train_config=asdict(config), device=str(device),
                threads=torch.get_num_threads(), train_frames=int(train_poses.shape[0]),
                val_frames=int(val_poses.shape[0]))
    if resume:
        _check_same_data(state, info, out / "last.pt")

    t0, cpu0 = time.perf_counter(), time.process_time()
    cpu_before = history[-1].cpu_s if history else 0.0
    steps = train_poses.shape[0] // config.batch_size
    stop_reason = "max_epochs"
    best_state = None
    for epoch in range(start_epoch, config.epochs):
        model.train()
        perm = torch.randperm(train_poses.shape[0], generator=shuffle_gen).to(device)
        sums: dict[str, float] = {}
        bar = tqdm(range(steps), desc=f"epoch {epoch + 1}/{config.epochs}", disable=not progress,
                   leave=False, dynamic_ncols=True)
        for step in bar:
            batch = train_poses[perm[step * config.batch_size:(step + 1) * config.batch_size]]
            loss = vposer_loss(model, batch, config.loss, epoch, body_forward)
            optimizer.zero_grad(set_to_none=True)
            loss.total.backward()
            optimizer.step()
            for k, v in loss.as_floats().items():
                sums[k] = sums.get(k, 0.0) + v
            if step % 20 == 0:
                bar.set_postfix(loss=f"{sums['total'] / (step + 1):.4f}")
        bar.close()
        val_terms, val_deg = evaluate(model, val_poses, config.loss, epoch, body_forward)
        lr = optimizer.param_groups[0]["lr"]
        scheduler.step(val_terms["total"])
        elapsed = elapsed_before + time.perf_counter() - t0
        record = EpochRecord(epoch=epoch + 1, lr=lr, train={k: v / steps for k, v in sums.items()},
                             val=val_terms, val_deg=val_deg, elapsed_s=round(elapsed, 2),
                             cpu_s=round(cpu_before + time.process_time() - cpu0, 2))
        history.append(record)
        improved = val_terms["total"] < best["val"] * (1 - config.min_improvement) if math.isfinite(best["val"]) else True
        if improved:
            best = {"val": val_terms["total"], "epoch": epoch + 1, "bad_epochs": 0}
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if out is not None:
                save_vposer(model, out / "best.pt", _metadata(info, history, best, elapsed, "running"))
        else:
            best["bad_epochs"] += 1
        if progress or verbose:
            tqdm.write(f"epoch {epoch + 1}: train {record.train['total']:.4f}  val {val_terms['total']:.4f}  "
                       f"val error {val_deg:.2f} deg/joint  lr {lr:.1e}  {elapsed:.0f} s ({record.cpu_s:.0f} s CPU)"
                       + ("  *best" if improved else ""))
        done = None
        if best["bad_epochs"] >= config.early_stop_patience:
            done = "early_stopping"
        elif config.max_minutes is not None and elapsed >= 60 * config.max_minutes:
            done = "time_budget"
        if out is not None:
            state = _training_state(model, optimizer, scheduler, shuffle_gen, history, epoch + 1, best, config, elapsed,
                                    _data_facts(info))
            tmp = out / "last.pt.tmp"
            torch.save(state, tmp)
            tmp.replace(out / "last.pt")
            _write_history(out, history, dict(info, best_epoch=best["epoch"], best_val=best["val"],
                                              stop_reason=done or "running", elapsed_s=round(elapsed, 1)))
        if done:
            stop_reason = done
            break
    elapsed = elapsed_before + time.perf_counter() - t0
    if out is not None:
        best_model, _ = vposer_from_checkpoint(read_checkpoint_file(out / "best.pt"), str(out / "best.pt"))
        save_vposer(best_model, out / "best.pt", _metadata(info, history, best, elapsed, stop_reason))
        _write_history(out, history, dict(info, best_epoch=best["epoch"], best_val=best["val"],
                                          stop_reason=stop_reason, elapsed_s=round(elapsed, 1)))
    else:
        best_model = VPoser(config.model)
        best_model.load_state_dict(best_state if best_state is not None else model.state_dict(), strict=True)
    best_model.eval()
    return TrainResult(model=best_model.cpu(), history=history, best_epoch=best["epoch"], best_val=best["val"],
                       stop_reason=stop_reason, elapsed_s=elapsed)


def _metadata(info: dict, history: list[EpochRecord], best: dict, elapsed: float, stop_reason: str) -> dict:
    rec = next((h for h in history if h.epoch == best["epoch"]), history[-1])
    return dict(
        info,
        description="VPoser-style VAE trained by humanlib on the open motion corpus. NOT the licensed "
        "VPoser weights of the SMPL-X authors (other data, other body model).",
        best_epoch=best["epoch"], best_val_loss=best["val"], best_val_deg_per_joint=rec.val_deg,
        epochs_run=len(history), stop_reason=stop_reason, train_seconds=round(elapsed, 1),
        train_cpu_seconds=history[-1].cpu_s,
        curve=[{"epoch": h.epoch, "train_total": h.train["total"], "val_total": h.val["total"],
                "val_deg": h.val_deg, "lr": h.lr, "elapsed_s": h.elapsed_s, "cpu_s": h.cpu_s} for h in history],
    )


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def corpus_body_poses(split: str) -> torch.Tensor:
    """Body poses ``(N, 21, 3)`` of a corpus split (``humanlib.data.load_corpus``).

    Raises:
        ValueError: an unknown split (not "train", "val" or "test"); corpus errors as ``load_corpus``.
    """
    from humanlib.data import load_corpus

    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")

    corpus = load_corpus(split)
    poses = corpus.poses if hasattr(corpus, "poses") else corpus["poses"]
    return as_body_pose(torch.as_tensor(poses).float(), name=f"corpus {split} poses")


