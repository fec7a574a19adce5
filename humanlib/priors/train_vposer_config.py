r"""VPoser training's settings and records.

:class:`TrainConfig` holds the settings, one :class:`EpochRecord` is written per epoch, a run returns a
:class:`TrainResult`.

:mod:`humanlib.priors.train_vposer` re-exports every name here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


from humanlib.priors.vposer_loss import VPoserLossConfig
from humanlib.priors.vposer_model import VPoser, VPoserConfig


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
        loss: The loss weights (:meth:`~humanlib.priors.vposer_loss.VPoserLossConfig.talk` or
            :meth:`~humanlib.priors.vposer_loss.VPoserLossConfig.released`).
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
    """Outcome of :func:`~humanlib.priors.train_vposer.train_vposer`.

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
