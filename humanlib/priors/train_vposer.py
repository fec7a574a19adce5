"""Training VPoser on the open corpus: the loop, resumable checkpoints and the command line.

``humanlib train-vposer --out DIR`` trains on the corpus's train split, validates on the val
split after every epoch, stops early when the validation loss stops improving, and writes into
``DIR``:

* ``last.pt``: the full training state (model, optimiser, scheduler, random-number generators,
  history), rewritten after every epoch; ``--resume`` continues from it;
* ``best.pt``: the model of the best validation epoch, a checkpoint for
  :func:`humanlib.priors.vposer_checkpoint.load_vposer`;
* ``history.json``: the training curve (one record per epoch) and the run's command,
  machine, thread count and wall-clock time.

Runs are reproducible for a given seed, device and thread count: the initial weights,
the shuffling, the dropout masks and the reparameterisation noise come from seeded generators
whose states are saved in ``last.pt``.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import torch
from tqdm.auto import tqdm

from humanlib import rotations
from humanlib._validate import check_positive, resolve_device
from humanlib.provenance import machine_description, poses_fingerprint  # re-exported under their old home
from humanlib.priors.vposer_checkpoint import (
    _check_metadata,
    read_checkpoint_file,
    save_vposer,
    vposer_checkpoint,
    vposer_from_checkpoint,
)
from humanlib.priors.vposer_loss import BodyForward, VPoserLossConfig, vposer_loss
from humanlib.priors.vposer_model import LatentGaussian, VPoser, _check_vposer, as_body_pose
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
from humanlib.priors.train_vposer_config import (  # re-exported: import them from here
    TRAINING_STATE_FORMAT, TrainConfig, EpochRecord, TrainResult,
)


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


#: The run facts a resumed run must share with the saved one (which data it trains on).
_DATA_KEYS = ("corpus_train_fingerprint", "corpus_val_fingerprint", "train_mirrored", "train_frames", "val_frames")

#: The settings a resumed run must share with the saved one (the budgets ``epochs``, ``max_minutes`` and
#: ``early_stop_patience`` may change; the optimiser's and scheduler's settings come back with their states).
_RESUME_SETTINGS = ("loss", "batch_size", "seed", "max_train_frames", "max_val_frames", "lr", "lr_decay_factor",
                    "lr_decay_patience", "min_improvement")

#: The entries of a training state (``last.pt``).
_STATE_ENTRIES = ("train_config", "model", "optimizer", "scheduler", "rng", "history", "epoch", "best", "elapsed_s")


def _data_facts(info: dict) -> dict:
    return {k: info[k] for k in _DATA_KEYS if k in info}


def _run_facts(config: TrainConfig, data: dict) -> dict:
    """What :func:`~humanlib.priors.training.check_same_run` compares between a saved run and a resumed one."""
    return {"architecture": {"model": asdict(config.model)},
            "settings": {k: getattr(config, k) if k != "loss" else asdict(config.loss) for k in _RESUME_SETTINGS},
            "data": dict(data)}


@dataclass
class _Run:
    """Everything a training run carries from epoch to epoch (and through ``last.pt`` over a resume)."""

    model: VPoser
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.ReduceLROnPlateau
    shuffle: torch.Generator
    stopping: EarlyStopping
    history: list[EpochRecord] = field(default_factory=list)
    epoch: int = 0
    elapsed_before: float = 0.0
    best_state: dict | None = None

    def state(self, config: TrainConfig, elapsed: float, data: dict) -> dict:
        """The training state written to ``last.pt``."""
        return {
            "format": TRAINING_STATE_FORMAT,
            "format_version": 2,
            "train_config": asdict(config),
            "model": vposer_checkpoint(self.model),
            **training_state(self.optimizer, {"shuffle": self.shuffle}, self.scheduler),
            "history": [asdict(h) for h in self.history],
            "epoch": self.epoch,
            "best": self.stopping.state_dict(),
            "elapsed_s": elapsed,
            "data": data,
        }


def _new_run(config: TrainConfig, device: torch.device) -> _Run:
    torch.manual_seed(config.seed)
    model = VPoser(config.model).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, factor=config.lr_decay_factor, patience=config.lr_decay_patience - 1,
        threshold=config.min_improvement,
    )
    shuffle = torch.Generator().manual_seed(config.seed + 2)
    return _Run(model, optimizer, scheduler, shuffle, EarlyStopping(config.early_stop_patience, config.min_improvement))


def _resume(run: _Run, path: Path, config: TrainConfig, data: dict) -> None:
    """Load the training state ``path`` into ``run`` (refusing another architecture, settings or data)."""
    state = read_training_state(path, "VPoser training state", _STATE_ENTRIES, reader=read_checkpoint_file,
                                format=TRAINING_STATE_FORMAT, command="humanlib train-vposer")
    try:
        saved = TrainConfig.from_dict(state["train_config"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot resume {path}: its train_config is not readable by this version ({exc})") from exc
    saved_model, _ = vposer_from_checkpoint(state["model"], str(path))
    restore_training(path, state, _run_facts(saved, state.get("data", {})), _run_facts(config, data), model=run.model,
                     weights=saved_model.state_dict(), optimizer=run.optimizer, generators={"shuffle": run.shuffle},
                     scheduler=run.scheduler)
    run.history = [EpochRecord(**h) for h in state["history"]]
    run.stopping.load_state_dict(state["best"])
    run.epoch, run.elapsed_before = int(state["epoch"]), float(state["elapsed_s"])


def _write_history(out_dir: Path, history: list[EpochRecord], info: dict) -> None:
    write_json_atomically(dict(info, history=[asdict(h) for h in history]), out_dir / "history.json")


def _train_epoch(run: _Run, train_poses: torch.Tensor, config: TrainConfig, body_forward: BodyForward | None,
                 dp: DataParallel, progress: bool) -> dict[str, float]:
    """One pass over the shuffled training poses; the mean of each loss term over the epoch's batches (all workers)."""
    model, optimizer, epoch = run.model, run.optimizer, run.epoch
    model.train()
    perm = torch.randperm(train_poses.shape[0], generator=run.shuffle).to(train_poses.device)
    steps = train_poses.shape[0] // config.batch_size
    sums: dict[str, float] = {}
    bar = tqdm(range(steps), desc=f"epoch {epoch + 1}/{config.epochs}", disable=not progress or not dp.is_main,
               leave=False, dynamic_ncols=True)
    for step in bar:
        batch = dp.shard(train_poses[perm[step * config.batch_size:(step + 1) * config.batch_size]])
        loss = vposer_loss(model, batch, config.loss, epoch, body_forward)
        optimizer.zero_grad(set_to_none=True)
        loss.total.backward()
        dp.average_gradients(model.parameters())
        optimizer.step()
        for k, v in loss.as_floats().items():
            sums[k] = sums.get(k, 0.0) + v
        if step % 20 == 0:
            bar.set_postfix(loss=f"{sums['total'] / (step + 1):.4f}")
    bar.close()
    return dp.mean({k: v / steps for k, v in sums.items()})


def _end_epoch(run: _Run, train: dict[str, float], val_poses: torch.Tensor, config: TrainConfig,
               body_forward: BodyForward | None, clock) -> tuple[EpochRecord, bool, float]:
    """Validate, step the scheduler, append the epoch's record, update the early stopping.

    ``clock()`` gives the run's wall-clock and CPU seconds so far. Returns the record, whether the
    epoch is the new best, and the wall-clock seconds.
    """
    val_terms, val_deg = evaluate(run.model, val_poses, config.loss, run.epoch, body_forward)
    lr = run.optimizer.param_groups[0]["lr"]
    run.scheduler.step(val_terms["total"])
    elapsed, cpu_s = clock()
    record = EpochRecord(epoch=run.epoch + 1, lr=lr, train=train, val=val_terms, val_deg=val_deg,
                         elapsed_s=round(elapsed, 2), cpu_s=round(cpu_s, 2))
    run.history.append(record)
    run.epoch += 1
    improved = run.stopping.update(val_terms["total"], run.epoch)
    if improved:
        run.best_state = {k: v.detach().clone() for k, v in run.model.state_dict().items()}
    return record, improved, elapsed


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

    Under ``torchrun`` each worker trains on its shard of every batch of ``config.batch_size`` poses
    (:class:`~humanlib.priors.training.DataParallel`): BatchNorm's statistics, the dropout masks and
    the sampling noise are those of the whole batch, so the run follows the one-process run to float
    round-off. Rank 0 writes the files.

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
            ``device``; an ``out_dir`` that is a file or already holds a run (without ``resume``);
            a saved run of another architecture, other settings or other data (with ``resume``);
            more torchrun workers than half the batch (BatchNorm needs 2 poses on each) or a batch
            that does not split evenly over them.
        FileNotFoundError: ``resume`` without ``out_dir/last.pt``.
    """
    config = config or TrainConfig()
    train_poses, val_poses, out = _check_train_inputs(train_poses, val_poses, config, out_dir, resume, device,
                                                      body_forward, progress, verbose, run_info)
    dp = data_parallel(str(device), config.batch_size, per_worker=2)  # BatchNorm: 2 poses or more on each worker
    device = torch.device(dp.device)
    subset_gen = torch.Generator().manual_seed(config.seed + 1)
    train_poses = _subset(train_poses, config.max_train_frames, subset_gen).to(device)
    val_poses = _subset(val_poses, config.max_val_frames, subset_gen).to(device)

    run = _new_run(config, device)
    info = dict(run_info or {}, train_config=asdict(config), device=str(device),
                threads=torch.get_num_threads(), train_frames=int(train_poses.shape[0]),
                val_frames=int(val_poses.shape[0]), world_size=dp.world_size)
    if not dp.active:
        del info["world_size"]  # as before data parallelism: one-process runs write the same files
    if resume:
        _resume(run, out / "last.pt", config, _data_facts(info))

    t0, cpu0 = time.perf_counter(), time.process_time()
    cpu_before = run.history[-1].cpu_s if run.history else 0.0
    stop_reason = "max_epochs"

    def clock() -> tuple[float, float]:
        return run.elapsed_before + time.perf_counter() - t0, cpu_before + time.process_time() - cpu0

    with _batch_wide_layers(run.model, dp):
        while run.epoch < config.epochs:
            train = _train_epoch(run, train_poses, config, body_forward, dp, progress)
            record, improved, elapsed = _end_epoch(run, train, val_poses, config, body_forward, clock)
            if out is not None and improved and dp.is_main:
                save_vposer(run.model, out / "best.pt", _metadata(info, run.history, run.stopping, elapsed, "running"))
            if (progress or verbose) and dp.is_main:
                tqdm.write(f"epoch {record.epoch}: train {record.train['total']:.4f}  val {record.val['total']:.4f}  "
                           f"val error {record.val_deg:.2f} deg/joint  lr {record.lr:.1e}  {elapsed:.0f} s "
                           f"({record.cpu_s:.0f} s CPU)" + ("  *best" if improved else ""))
            done = None
            if run.stopping.should_stop:
                done = "early_stopping"
            elif config.max_minutes is not None and elapsed >= 60 * config.max_minutes:
                done = "time_budget"
            done = dp.from_main(done)  # the workers' clocks differ: rank 0 decides
            if out is not None and dp.is_main:
                save_atomically(run.state(config, elapsed, _data_facts(info)), out / "last.pt")
                _write_history(out, run.history, dict(info, best_epoch=run.stopping.at, best_val=run.stopping.best,
                                                      stop_reason=done or "running", elapsed_s=round(elapsed, 1)))
            if done:
                stop_reason = done
                break
    elapsed = run.elapsed_before + time.perf_counter() - t0
    best_model = _best_model(run, config, out)
    if out is not None and dp.is_main:
        save_vposer(best_model, out / "best.pt", _metadata(info, run.history, run.stopping, elapsed, stop_reason))
        _write_history(out, run.history, dict(info, best_epoch=run.stopping.at, best_val=run.stopping.best,
                                              stop_reason=stop_reason, elapsed_s=round(elapsed, 1)))
    best_model.eval()
    return TrainResult(model=best_model.cpu(), history=run.history, best_epoch=run.stopping.at,
                       best_val=run.stopping.best, stop_reason=stop_reason, elapsed_s=elapsed)


def _best_model(run: _Run, config: TrainConfig, out: Path | None) -> VPoser:
    """The model of the best validation epoch (from memory, or from ``best.pt`` when it came before a resume)."""
    if run.best_state is None and out is not None:
        model, _ = vposer_from_checkpoint(read_checkpoint_file(out / "best.pt"), str(out / "best.pt"))
        return model
    model = VPoser(config.model)
    model.load_state_dict(run.best_state if run.best_state is not None else run.model.state_dict(), strict=True)
    return model


def _check_train_inputs(train_poses, val_poses, config, out_dir, resume, device, body_forward, progress, verbose,
                        run_info) -> tuple[torch.Tensor, torch.Tensor, Path | None]:
    """The checks of :func:`train_vposer`; returns the float poses and the output folder (created)."""
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig or None; got {type(config).__name__}")
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
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        if (out / "last.pt").exists() and not resume:
            raise ValueError(f"{out} already holds a training run (last.pt): pass resume=True / --resume, or another folder")
        if resume and not (out / "last.pt").exists():
            raise FileNotFoundError(f"nothing to resume: {out / 'last.pt'} does not exist")
    return train_poses, val_poses, out


# ---------------------------------------------------------------------- batch-wide layers for data parallelism


@contextmanager
def _batch_wide_layers(model: VPoser, dp: DataParallel):
    """Under several workers, make VPoser's random and batch-statistics layers see the whole batch.

    Each worker holds a shard of the batch, but BatchNorm normalises with the batch's statistics
    and dropout and the reparameterisation draw one random number per row. Inside this context
    (and only with more than one worker) BatchNorm all-reduces its statistics, and dropout and
    ``rsample`` draw the whole batch's noise from the generator (in sync on every worker: same seed,
    same draws) and keep this worker's rows. The one-process run is untouched. On the CPU the masks
    are those ``F.dropout`` draws for the whole batch (the 2-worker test compares the curves); on
    CUDA ``F.dropout`` uses a fused kernel with its own random stream, so there the masks differ
    from a one-GPU run's (same distribution, not the same numbers).
    """
    if not dp.active:
        yield
        return
    patched = [m for m in model.modules() if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.Dropout))]
    for m in patched:
        m.forward = partial(_global_batch_norm if isinstance(m, torch.nn.BatchNorm1d) else _batch_dropout, m, dp)
    encode = model.encode

    def batch_encode(pose: torch.Tensor) -> _BatchGaussian:
        q = encode(pose)
        return _BatchGaussian(q.mean, q.std, dp=dp)

    model.encode = batch_encode
    try:
        yield
    finally:
        for m in patched:
            del m.forward
        del model.encode


@dataclass
class _BatchGaussian(LatentGaussian):
    """A shard of the batch's :class:`LatentGaussian` whose ``rsample`` draws the whole batch's noise."""

    dp: DataParallel = field(default_factory=DataParallel)

    def rsample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        b, d = self.mean.shape
        eps = torch.randn((b * self.dp.world_size, d), generator=generator, device=self.mean.device,
                          dtype=self.mean.dtype)
        return self.mean + self.std * eps[self.dp.rank * b:(self.dp.rank + 1) * b]


def _global_batch_norm(bn: torch.nn.BatchNorm1d, dp: DataParallel, x: torch.Tensor) -> torch.Tensor:
    """BatchNorm1d in training mode with the mean and variance of the whole batch (all workers)."""
    if not bn.training:
        return type(bn).forward(bn, x)
    n = x.shape[0] * dp.world_size
    mean = dp.all_sum(x.sum(0)) / n  # differentiable: the gradient flows back to every worker's shard
    centred = x - mean
    var = dp.all_sum((centred * centred).sum(0)) / n
    with torch.no_grad():
        m = bn.momentum
        bn.running_mean.mul_(1 - m).add_(mean, alpha=m)
        bn.running_var.mul_(1 - m).add_(var * (n / (n - 1)), alpha=m)
        bn.num_batches_tracked += 1
    return centred * torch.rsqrt(var + bn.eps) * bn.weight + bn.bias


def _batch_dropout(drop: torch.nn.Dropout, dp: DataParallel, x: torch.Tensor) -> torch.Tensor:
    """Dropout whose mask is this worker's rows of the whole batch's mask (drawn as ``F.dropout`` draws it on CPU)."""
    if not drop.training or drop.p == 0:
        return type(drop).forward(drop, x)
    b = x.shape[0]
    noise = torch.empty((b * dp.world_size, *x.shape[1:]), dtype=x.dtype, device=x.device).bernoulli_(1 - drop.p)
    noise.div_(1 - drop.p)
    return x * noise[dp.rank * b:(dp.rank + 1) * b]


def _metadata(info: dict, history: list[EpochRecord], stopping: EarlyStopping, elapsed: float, stop_reason: str) -> dict:
    rec = next((h for h in history if h.epoch == stopping.at), history[-1])
    return dict(
        info,
        description="VPoser-style VAE trained by humanlib on the open motion corpus. NOT the licensed "
        "VPoser weights of the SMPL-X authors (other data, other body model).",
        best_epoch=stopping.at, best_val_loss=stopping.best, best_val_deg_per_joint=rec.val_deg,
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


