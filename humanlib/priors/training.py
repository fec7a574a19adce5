"""The parts of a training loop that ``train-vposer``, ``train-posendf`` and ``train-humor`` share.

* **Checkpoints** are written atomically (:func:`save_atomically`: a temporary file of the same
  folder, renamed into place), so an interrupted run never leaves a half-written ``last.pt``; a
  saved run resumes only with the architecture, settings and data it was trained with
  (:func:`check_same_run`: one line naming the first difference).
* **One resume path** for the three loops: :func:`training_state` gathers what a loop must keep
  beside its weights (optimiser, scheduler, random generators), :func:`read_training_state` loads
  ``last.pt`` with ``torch.load(weights_only=True)`` and checks its entries, and
  :func:`restore_training` refuses another architecture, other settings or another corpus
  fingerprint (:func:`check_same_run`), then loads the weights with strict keys and shapes
  (:func:`load_weights`), the optimiser, the scheduler and the generators.
* **Resuming loses nothing**: the saved state holds the weights, the optimiser, the scheduler,
  every random generator (:func:`rng_states`), the epoch or step, the history and the early
  stopping's state (:class:`EarlyStopping`); a resumed run continues the uninterrupted one bit for bit.
* **Data parallel** under ``torchrun`` (:class:`DataParallel`): every worker draws the same global
  batch from identically seeded generators and takes its own contiguous shard of
  ``batch_size / world_size`` rows; the gradients are averaged with one ``all_reduce`` per step, so
  every worker holds the same weights and the run follows the one-process run of the same (global)
  ``batch_size`` to float round-off. The losses logged are the means over all workers; only rank 0
  writes checkpoints and history.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

import torch

from humanlib.distributed import distributed_context


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _file_path(path: str | os.PathLike) -> Path:
    """``path`` as a Path whose folder exists; ``TypeError`` / ``IsADirectoryError`` for a non-path or a folder."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or Path; got {type(path).__name__}")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give a file name such as {path / 'last.pt'}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def save_atomically(payload: dict, path: str | os.PathLike) -> Path:
    """``torch.save(payload)`` into a temporary file beside ``path``, then rename it to ``path``.

    A run killed while saving leaves the previous file intact (and at worst a ``.tmp-*`` file).

    Raises:
        TypeError: ``path`` is not a path.
        IsADirectoryError: ``path`` is a folder.
    """
    path = _file_path(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes the file private; give it the mode open() would
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomically(payload: object, path: str | os.PathLike, indent: int = 1) -> Path:
    """``json.dumps(payload)`` written to a temporary file beside ``path``, then renamed to ``path``.

    Raises:
        TypeError: ``path`` is not a path, or ``payload`` is not JSON-serialisable.
        IsADirectoryError: ``path`` is a folder.
    """
    path = _file_path(path)
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_text(json.dumps(payload, indent=indent))
    os.replace(tmp, path)
    return path


def check_entries(state: dict, required: Iterable[str], path: str | os.PathLike, what: str) -> None:
    """Raise ``ValueError`` (one line) unless the loaded ``state`` holds every ``required`` entry."""
    missing = sorted(set(required) - set(state))
    if missing:
        raise ValueError(f"{path} is an incomplete {what}: missing entries {missing}; start a new run in another folder")


def check_same_run(path: str | os.PathLike, saved: dict[str, dict], now: dict[str, dict]) -> None:
    """Refuse to resume a run whose facts differ from the saved run's.

    Args:
        path: the checkpoint (named in the message).
        saved, now: the facts by kind (``"architecture"``, ``"settings"``, ``"data"``), each a dict of
            plain values; a fact missing on either side is not compared.

    Raises:
        ValueError: one line naming the first differing fact, its saved and its new value.
    """
    for kind in now:
        a, b = saved.get(kind, {}), now[kind]
        for name in sorted(a.keys() & b.keys()):
            if a[name] != b[name]:
                how = {"data": "on other data", "settings": "with other settings"}.get(kind, f"with another {kind}")
                raise ValueError(f"cannot resume {path}: it was trained {how} ({name} {a[name]!r} in the saved run, "
                                 f"now {b[name]!r}); train again in a new --out folder, without --resume")


def _read_weights_only(path: Path) -> dict:
    """``torch.load(path, weights_only=True)``; ``ValueError`` (one line naming the file) for a damaged or foreign file."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file surfaces as many exception types
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()
        raise ValueError(f"{path} is not a readable torch checkpoint ({type(exc).__name__}: "
                         f"{text[0] if text else 'no message'}); start a new run in another folder, without --resume") from None
    if not isinstance(state, dict):
        raise ValueError(f"{path} holds a {type(state).__name__}, not a training state; "
                         "start a new run in another folder, without --resume")
    return state


def read_training_state(path: str | os.PathLike, what: str, entries: Iterable[str], *,
                        reader: Callable[[Path], dict] | None = None, format: str | None = None,
                        command: str = "the training command") -> dict:
    """Load the resumable training state ``path`` (``last.pt``) and check that it is one.

    Args:
        path: the state file.
        what: its name in messages (``"VPoser training state"``).
        entries: the entries it must hold (:func:`check_entries`).
        reader: the model's own safe loader (its messages name foreign files); default
            ``torch.load(weights_only=True)`` with a one-line error.
        format: the value its ``"format"`` entry must have (``None``: not checked).
        command: the command that writes such states (named in the format error).

    Raises:
        TypeError: ``path`` is not a path.
        FileNotFoundError: no file at ``path`` ("nothing to resume").
        ValueError: a damaged file, a file of another format, or one without every entry.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or Path; got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"nothing to resume: {path} does not exist; start without --resume")
    state = (reader or _read_weights_only)(path)
    if format is not None and state.get("format") != format:
        raise ValueError(f"{path} is not a {what} (format {state.get('format')!r}); resume from the last.pt that "
                         f"`{command}` wrote, or start without resume")
    check_entries(state, entries, path, what)
    return state


def load_weights(module: torch.nn.Module, weights: Mapping, source: str | os.PathLike) -> None:
    """``module.load_state_dict(weights, strict=True)`` with a one-line error naming what does not match.

    Raises:
        TypeError: ``module`` is not a ``torch.nn.Module``, ``weights`` not a dict of tensors.
        ValueError: missing or unexpected keys, or tensors of another shape (a checkpoint of
            another architecture).
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module must be a torch.nn.Module; got {type(module).__name__}")
    if not isinstance(weights, Mapping) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
        raise TypeError(f"the weights of {source} must be a dict of tensors; got {type(weights).__name__}")
    own = module.state_dict()
    problems = []
    if set(own) - set(weights):
        problems.append(f"missing keys {sorted(set(own) - set(weights))[:4]}")
    if set(weights) - set(own):
        problems.append(f"unexpected keys {sorted(set(weights) - set(own))[:4]}")
    problems += [f"{k} has shape {tuple(weights[k].shape)}, the model {tuple(own[k].shape)}"
                 for k in sorted(set(own) & set(weights)) if weights[k].shape != own[k].shape][:4]
    if problems:
        raise ValueError(f"{source} holds weights of another architecture ({'; '.join(problems)}); "
                         "train again in a new --out folder, without --resume")
    module.load_state_dict(dict(weights), strict=True)


def training_state(optimizer: torch.optim.Optimizer, generators: dict[str, torch.Generator],
                   scheduler: object | None = None) -> dict:
    """What a training loop keeps beside its weights: ``{"optimizer", "rng"[, "scheduler"]}``.

    Raises:
        TypeError: ``optimizer`` is not a torch optimiser, ``generators`` not a dict of generators.
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer; got {type(optimizer).__name__}")
    state = {"optimizer": optimizer.state_dict(), "rng": rng_states(generators)}
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    return state


def restore_training(path: str | os.PathLike, state: dict, saved_facts: dict[str, dict], facts: dict[str, dict], *,
                     model: torch.nn.Module, weights: Mapping, optimizer: torch.optim.Optimizer,
                     generators: dict[str, torch.Generator], scheduler: object | None = None) -> None:
    """Continue a saved run: refuse another run, then load everything :func:`training_state` saved.

    Args:
        path: the state file (named in messages).
        state: its content (:func:`read_training_state`).
        saved_facts, facts: the saved and the new run's facts (:func:`check_same_run`).
        model, weights: the model and its saved weights (loaded by :func:`load_weights`).
        optimizer, generators, scheduler: restored from ``state``.

    Raises:
        ValueError: the runs differ (one line naming the first difference), weights of another
            architecture, a state without what :func:`training_state` writes.
    """
    check_same_run(path, saved_facts, facts)
    check_entries(state, ("optimizer", "rng") + (("scheduler",) if scheduler is not None else ()), path, "training state")
    load_weights(model, weights, path)
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(state["scheduler"])
    restore_rng_states(state["rng"], generators)


def rng_states(generators: dict[str, torch.Generator]) -> dict[str, torch.Tensor]:
    """The states of torch's global generator (``"torch"``, and ``"cuda"`` when CUDA is up) and of ``generators``.

    Raises:
        TypeError: ``generators`` is not a dict of ``torch.Generator``.
    """
    _check_generators(generators)
    states = {"torch": torch.get_rng_state(), **{name: g.get_state() for name, g in generators.items()}}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state()
    return states


def _check_generators(generators: object) -> None:
    if not isinstance(generators, dict) or not all(isinstance(g, torch.Generator) for g in generators.values()):
        raise TypeError(f"generators must be a dict of name -> torch.Generator; got {generators!r}")


def restore_rng_states(states: dict[str, torch.Tensor], generators: dict[str, torch.Generator]) -> None:
    """Inverse of :func:`rng_states` (a saved ``"cuda"`` state is restored only where CUDA is up).

    Raises:
        TypeError: ``generators`` is not a dict of ``torch.Generator``, ``states`` not a dict.
        ValueError: ``states`` lacks the state of a generator (saved by another version?).
    """
    _check_generators(generators)
    if not isinstance(states, dict):
        raise TypeError(f"states must be the dict rng_states returned; got {type(states).__name__}")
    missing = sorted({"torch", *generators} - set(states))
    if missing:
        raise ValueError(f"the saved random states lack {missing}; start a new run in another folder")
    torch.set_rng_state(states["torch"])
    for name, g in generators.items():
        g.set_state(states[name])
    if "cuda" in states and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.set_rng_state(states["cuda"])


@dataclass
class EarlyStopping:
    """The best validation value so far and the validations since it (early stopping on val).

    A validation improves on the best when it is lower by more than ``min_improvement`` (relative);
    the first validation always does. The run should stop after ``patience`` validations without
    an improvement (``patience = 0``: never).

    Attributes:
        patience: validations without improvement before stopping (0: off).
        min_improvement: relative decrease that counts as an improvement.
        best: the best validation value (``inf`` before the first).
        at: the epoch or step of the best validation (0 before the first).
        bad: validations since the best.
    """

    patience: int
    min_improvement: float = 1e-3
    best: float = math.inf
    at: int = 0
    bad: int = 0

    def __post_init__(self) -> None:
        """Raises ``ValueError`` for a ``patience`` that is not an int >= 0 or a ``min_improvement`` outside [0, 1)."""
        if isinstance(self.patience, bool) or not isinstance(self.patience, int) or self.patience < 0:
            raise ValueError(f"patience must be an int >= 0 (0: no early stopping); got {self.patience!r}")
        if isinstance(self.min_improvement, bool) or not isinstance(self.min_improvement, (int, float)) \
                or not 0 <= self.min_improvement < 1:
            raise ValueError(f"min_improvement must be in [0, 1) (a relative decrease); got {self.min_improvement!r}")

    def update(self, value: float, at: int) -> bool:
        """Record the validation ``value`` of epoch/step ``at``; True when it is the new best."""
        if not math.isfinite(self.best) or value < self.best * (1 - self.min_improvement):
            self.best, self.at, self.bad = value, at, 0
            return True
        self.bad += 1
        return False

    @property
    def should_stop(self) -> bool:
        """``patience`` validations without an improvement."""
        return self.patience > 0 and self.bad >= self.patience

    def state_dict(self) -> dict:
        """Plain values for a checkpoint."""
        return {"best": self.best, "at": self.at, "bad": self.bad}

    def load_state_dict(self, state: dict) -> None:
        """Inverse of :meth:`state_dict`.

        Raises:
            ValueError: ``state`` is not such a dict (a checkpoint of another version?).
        """
        if not isinstance(state, dict) or not {"best", "at", "bad"} <= set(state):
            raise ValueError(f"an early-stopping state must be a dict with best, at and bad; got {state!r}")
        self.best, self.at, self.bad = float(state["best"]), int(state["at"]), int(state["bad"])


@dataclass(frozen=True)
class DataParallel:
    """This worker's place in a data-parallel run (rank 0 of 1 without ``torchrun``).

    Attributes:
        rank: this worker.
        world_size: the number of workers.
        device: this worker's device (``cuda:LOCAL_RANK`` for a CUDA worker under torchrun).
    """

    rank: int = 0
    world_size: int = 1
    device: str = "cpu"

    def __post_init__(self) -> None:
        """Raises ``ValueError`` unless ``0 <= rank < world_size``."""
        for name in ("rank", "world_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be an int; got {value!r}")
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f"rank must be in [0, world_size={self.world_size}); got {self.rank}")

    @property
    def active(self) -> bool:
        """More than one worker."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0, the worker that writes checkpoints and history."""
        return self.rank == 0

    def check_batch(self, batch_size: int, per_worker: int = 1) -> None:
        """Raise ``ValueError`` (one line) unless every worker gets an equal shard of ``per_worker`` or more samples."""
        if self.world_size * per_worker > batch_size:
            raise ValueError(f"{self.world_size} workers for a batch of {batch_size}: each worker needs at least "
                             f"{per_worker} sample(s) of every batch; start at most {batch_size // per_worker} "
                             "workers or raise --batch-size")
        if batch_size % self.world_size:
            raise ValueError(f"batch size {batch_size} does not split evenly over {self.world_size} workers; "
                             f"give a --batch-size that is a multiple of {self.world_size}")

    def shard(self, batch: torch.Tensor) -> torch.Tensor:
        """This worker's rows of a global batch: the ``rank``-th of ``world_size`` equal contiguous slices.

        Raises:
            ValueError: a batch whose rows do not split evenly over the workers.
        """
        if not self.active:
            return batch
        if batch.shape[0] % self.world_size:
            raise ValueError(f"a batch of {batch.shape[0]} rows does not split evenly over {self.world_size} workers")
        per = batch.shape[0] // self.world_size
        return batch[self.rank * per:(self.rank + 1) * per]

    def average_gradients(self, parameters: Iterable[torch.nn.Parameter]) -> None:
        """Replace every gradient by its mean over the workers (one ``all_reduce`` of all of them).

        Parameters without a gradient are left out (the same on every worker: one model, one loss).
        """
        if not self.active:
            return
        import torch.distributed as dist

        grads = [p.grad for p in parameters if p.grad is not None]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.world_size
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()

    def all_sum(self, x: torch.Tensor) -> torch.Tensor:
        """The sum of ``x`` over the workers, differentiable (the gradient of each worker's ``x`` is the
        sum of the workers' gradients of the result), e.g. for the statistics of a whole batch."""
        return _AllSum.apply(x) if self.active else x

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """The mean of each value over the workers (in float64), e.g. the epoch's training losses."""
        if not self.active:
            return values
        import torch.distributed as dist

        keys = list(values)  # the same order on every worker: the same loop made the dict
        t = torch.tensor([values[k] for k in keys], dtype=torch.float64,
                         device=self.device if self.device.startswith("cuda") else "cpu")
        dist.all_reduce(t)
        return {k: float(v) / self.world_size for k, v in zip(keys, t.tolist())}

    def from_main(self, value):
        """Rank 0's ``value`` on every worker (a decision all must share, e.g. to stop on a time budget)."""
        if not self.active:
            return value
        import torch.distributed as dist

        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        """Wait for every worker (after rank 0 wrote a file the others read)."""
        if self.active:
            import torch.distributed as dist

            dist.barrier()


class _AllSum(torch.autograd.Function):
    """``all_reduce(SUM)`` with its adjoint, ``all_reduce(SUM)`` of the incoming gradient."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        out = x.clone()
        dist.all_reduce(out)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


def data_parallel(device: str | torch.device = "cpu", batch_size: int | None = None, per_worker: int = 1) -> DataParallel:
    """The :class:`DataParallel` of this process: joins torchrun's process group when ``WORLD_SIZE > 1``.

    ``gloo`` on the CPU, ``nccl`` on CUDA (see :func:`humanlib.distributed.distributed_context`).
    With ``batch_size``, the batch is checked against the world size (:meth:`DataParallel.check_batch`)
    before joining the group, so that a bad launch fails at once on every worker.

    Raises:
        ValueError: more workers than ``batch_size // per_worker``, or a batch that does not split evenly.
    """
    if batch_size is not None:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        DataParallel(0, max(world, 1)).check_batch(batch_size, per_worker)
    rank, world, dev = distributed_context(str(device))
    return DataParallel(rank, world, dev)


__all__ = [
    "DataParallel",
    "EarlyStopping",
    "check_entries",
    "check_same_run",
    "data_parallel",
    "load_weights",
    "read_training_state",
    "restore_rng_states",
    "restore_training",
    "rng_states",
    "save_atomically",
    "training_state",
    "write_json_atomically",
]
