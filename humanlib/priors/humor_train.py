"""Training HuMoR's transition model: the ELBO with KL annealing and scheduled sampling over short windows.

One step (:func:`window_loss`) takes a batch of windows of ``window`` consecutive 30 fps frames
and walks their ``window - 1`` transitions in order. For each transition ``x_{t-1} -> x_t`` the
loss is HuMoR's (Rempe et al. 2021, Sec. 3.3), in standardised units:

* reconstruction ``1/2 ||Delta_hat - Delta||^2`` of the change of state (a unit-variance Gaussian);
* ``BCE`` of the predicted contacts against the labels (:func:`~humanlib.priors.humor_state.contact_labels`);
* ``beta * KL(q(z | x_{t-1}, x_t) || p(z | x_{t-1}))`` with the learned prior, ``beta`` raised
  linearly from 0 to ``kl_weight`` over the first ``kl_anneal_steps`` steps (KL annealing, so the
  decoder learns to use ``z`` before the prior pulls the posterior in).

**Scheduled sampling**: the input of the next transition is the model's own reconstruction
``x_hat_t`` (kept consistent: joints by forward kinematics) instead of the data's ``x_t`` with a
probability that grows linearly from 0 at step ``sample_start`` to 1 at ``sample_end``; so the
model learns to recover from its own errors, which a rollout feeds it. The fed-back state is
detached (no gradient through the chain), a simplification of the original.

The loop reuses :mod:`humanlib.priors.training`: atomic checkpoints, ``check_same_run`` on
resume, every random state saved (a resumed run equals the uninterrupted one), early stopping on
the validation loss *fed its own predictions* (``val_own_loss``: what a rollout does; the
teacher-forced ``val_loss`` is recorded too). The weights kept are the best on val, never chosen on test.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from humanlib._validate import check_positive, check_tensor
from humanlib.body import SkeletonJoints, load_body_model
from humanlib.data.corpus import MotionCorpus
from humanlib.priors.humor_model import HumorConfig, HumorModel, _from_heading, _gaussian_kl, _to_heading, config_dict
from humanlib.priors.humor_state import STATE_DIM, STATE_SLICES, _joint_positions, contact_labels, motion_to_state
from humanlib.priors.training import (
    EarlyStopping, check_entries, read_training_state, restore_training, save_atomically, training_state,
)

FORMAT = "humanlib humor v1"
CHECKPOINT_ENTRIES = ("format", "config", "state_dict", "metadata")
LAST_ENTRIES = ("model", "optimizer", "step", "history", "rng", "early_stopping", "facts")


@dataclass
class HumorTrainConfig:
    """Settings of a training run.

    Attributes:
        model: network sizes.
        window: frames per training window (HuMoR: 10), ``window - 1`` transitions per step.
        stride: frames between window starts in the corpus.
        batch_size: windows per step.
        steps: optimiser steps.
        lr: Adam learning rate.
        kl_weight: final weight ``beta`` of the KL term.
        kl_anneal_steps: steps over which ``beta`` rises from 0 to ``kl_weight``.
        sample_start, sample_end: scheduled sampling's probability of feeding the model its own
            prediction rises from 0 at ``sample_start`` to 1 at ``sample_end``.
        contact_weight: weight of the contact BCE.
        val_every: steps between validations.
        num_val: validation windows (fixed, the first of a seeded shuffle).
        patience: validations without improvement before stopping (0: never).
        seed: seed of the initial weights, the batches and the sampling.
    """

    model: HumorConfig = field(default_factory=HumorConfig)
    window: int = 10
    stride: int = 5
    batch_size: int = 64
    steps: int = 6000
    lr: float = 1e-3
    kl_weight: float = 1.0
    kl_anneal_steps: int = 1000
    sample_start: int = 1500
    sample_end: int = 4000
    contact_weight: float = 1.0
    val_every: int = 250
    num_val: int = 512
    patience: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        """Raises ``TypeError``/``ValueError`` naming a field of the wrong type or range."""
        if not isinstance(self.model, HumorConfig):
            raise TypeError(f"model must be a HumorConfig; got {type(self.model).__name__}")
        for name in ("window", "stride", "batch_size", "steps", "val_every", "num_val"):
            check_positive(getattr(self, name), name, integer=True)
        if self.window < 3:
            raise ValueError(f"window must be >= 3 frames (one transition after the first velocity); got {self.window}")
        for name in ("kl_anneal_steps", "sample_start", "sample_end", "patience", "seed"):
            check_positive(getattr(self, name), name, integer=True, allow_zero=True)
        if self.sample_end < self.sample_start:
            raise ValueError(f"sample_end ({self.sample_end}) must be >= sample_start ({self.sample_start})")
        check_positive(self.lr, "lr")
        check_positive(self.kl_weight, "kl_weight", allow_zero=True)
        check_positive(self.contact_weight, "contact_weight", allow_zero=True)


@dataclass
class HumorTrainResult:
    """What :func:`train_humor` returns.

    Attributes:
        model: the trained model (the weights of the best validation).
        history: one dict per validation (step, train and val losses, beta, sampling probability).
        seconds: wall time of this call.
    """

    model: HumorModel
    history: list[dict]
    seconds: float


def kl_beta(step: int, config: HumorTrainConfig) -> float:
    """The KL weight at ``step`` (linear warm-up from 0 to ``kl_weight``).

    Raises:
        TypeError, ValueError: ``step`` not an integer >= 0; ``config`` not a :class:`HumorTrainConfig`.
    """
    _check_step(step, config)
    if config.kl_anneal_steps == 0:
        return config.kl_weight
    return config.kl_weight * min(1.0, step / config.kl_anneal_steps)


def sampling_probability(step: int, config: HumorTrainConfig) -> float:
    """Scheduled sampling's probability of feeding the model its own prediction at ``step``.

    Raises:
        TypeError, ValueError: ``step`` not an integer >= 0; ``config`` not a :class:`HumorTrainConfig`.
    """
    _check_step(step, config)
    if step < config.sample_start:
        return 0.0
    if config.sample_end == config.sample_start:
        return 1.0
    return min(1.0, (step - config.sample_start) / (config.sample_end - config.sample_start))


def _check_step(step: object, config: object) -> None:
    check_positive(step, "step", integer=True, allow_zero=True)
    if not isinstance(config, HumorTrainConfig):
        raise TypeError(f"config must be a HumorTrainConfig; got {type(config).__name__}")


def window_states(poses: torch.Tensor, transl: torch.Tensor, joints_model: SkeletonJoints,
                  fps: float = 30.0) -> tuple[torch.Tensor, torch.Tensor]:
    """States and contact labels of windows ``(B, L + 1, 24, 3)``, ``(B, L + 1, 3)``, first frame dropped.

    The first frame only gives the second its velocities (a backward difference).

    Returns:
        ``(states (B, L, STATE_DIM), contacts (B, L, NUM_CONTACTS))``.

    Raises:
        TypeError, ValueError: bad shapes (fewer than 3 frames), NaN/inf.
    """
    poses = check_tensor(poses, "poses", (None, None, 24, 3))
    if poses.shape[1] < 3:
        raise ValueError(f"windows must hold at least 3 frames; got {poses.shape[1]}")
    s = motion_to_state(poses, transl, joints_model, fps)
    J = s[..., STATE_SLICES["joints"]].unflatten(-1, (-1, 3))
    c = contact_labels(J, fps)
    return s[:, 1:], c[:, 1:]


def window_loss(model: HumorModel, states: torch.Tensor, contacts: torch.Tensor, beta: float, p_own: float,
                generator: torch.Generator | None = None, contact_weight: float = 1.0) -> dict[str, torch.Tensor]:
    """The loss of a batch of windows (module docstring), averaged over windows and transitions.

    Args:
        model: the transition model.
        states: ``(B, L, STATE_DIM)``; contacts: ``(B, L, NUM_CONTACTS)`` labels (:func:`window_states`).
        beta: KL weight; p_own: probability of feeding back the model's own prediction.
        contact_weight: weight of the contact BCE.
        generator: draws the latents and the scheduled-sampling coins.

    Returns:
        ``{"loss", "recon", "kl", "contact"}`` scalars (``loss`` differentiable).

    Raises:
        TypeError, ValueError: bad shapes, ``beta`` < 0, ``p_own`` outside [0, 1].
    """
    if not isinstance(model, HumorModel):
        raise TypeError(f"model must be a HumorModel; got {type(model).__name__}")
    states = check_tensor(states, "states", (None, None, STATE_DIM), dtype=model.state_mean.dtype)
    if states.shape[1] < 2:
        raise ValueError(f"states must hold at least 2 frames (one transition); got {states.shape[1]}")
    check_tensor(contacts, "contacts", (states.shape[0], states.shape[1], None))
    check_positive(beta, "beta", allow_zero=True)
    if isinstance(p_own, bool) or not isinstance(p_own, (int, float)) or not 0 <= p_own <= 1:
        raise ValueError(f"p_own must be a probability in [0, 1]; got {p_own!r}")
    check_positive(contact_weight, "contact_weight", allow_zero=True)
    return _window_loss(model, states, contacts, float(beta), float(p_own), generator, float(contact_weight))


def _window_loss(model: HumorModel, states, contacts, beta: float, p_own: float, generator,
                 contact_weight: float = 1.0) -> dict[str, torch.Tensor]:
    prev = states[:, 0]
    recon = kl = contact = 0.0
    steps = states.shape[1] - 1
    for t in range(1, states.shape[1]):
        out = model._forward(prev, states[:, t], generator)
        recon = recon + 0.5 * ((out.delta - out.target) ** 2).sum(-1).mean()
        kl = kl + _gaussian_kl(out.q_mu, out.q_logvar, out.p_mu, out.p_logvar).mean()
        contact = contact + F.binary_cross_entropy_with_logits(out.contact_logits, contacts[:, t], reduction="none").sum(-1).mean()
        if t < states.shape[1] - 1:
            if p_own > 0:
                with torch.no_grad():
                    delta = out.delta * model.delta_std + model.delta_mean
                    own = model._make_consistent(prev, _from_heading(prev, _to_heading(prev, prev) + delta))
                    coin = torch.rand(prev.shape[0], generator=generator, device=prev.device) < p_own
                prev = torch.where(coin[:, None], own, states[:, t])
            else:
                prev = states[:, t]
    recon, kl, contact = recon / steps, kl / steps, contact / steps
    return {"loss": recon + beta * kl + contact_weight * contact, "recon": recon, "kl": kl, "contact": contact}


class _Windows:
    """Start indices of all windows of ``length`` frames inside single clips of a corpus."""

    def __init__(self, corpus: MotionCorpus, length: int, stride: int) -> None:
        self.corpus = corpus
        self.length = length
        self.starts = torch.tensor([c.start + s for c in corpus.clips
                                    for s in range(0, c.num_frames - length + 1, stride)], dtype=torch.int64)

    def __len__(self) -> int:
        return int(self.starts.numel())

    def get(self, which: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        idx = self.starts[which][:, None] + torch.arange(self.length)[None, :]
        return self.corpus.poses[idx], self.corpus.transl[idx]


def corpus_digest(corpus: MotionCorpus) -> str:
    """A short hash of a corpus split's poses and translations (the checkpoint's data fingerprint).

    Raises:
        TypeError: ``corpus`` is not a :class:`~humanlib.data.MotionCorpus`.
    """
    if not isinstance(corpus, MotionCorpus):
        raise TypeError(f"corpus must be a humanlib.data.MotionCorpus; got {type(corpus).__name__}")
    h = hashlib.sha256(corpus.poses.numpy().tobytes())
    h.update(corpus.transl.numpy().tobytes())
    return f"{corpus.split} {corpus.fps:g} fps {len(corpus)} frames sha256 {h.hexdigest()[:16]}"


def body_digest(joints_model: SkeletonJoints) -> str:
    """A short hash of a body model's rest joints and joint shape basis (which body the states used).

    Raises:
        TypeError: not a :class:`~humanlib.body.SkeletonJoints`.
    """
    if not isinstance(joints_model, SkeletonJoints):
        raise TypeError(f"joints_model must be a humanlib.body.SkeletonJoints; got {type(joints_model).__name__}")
    h = hashlib.sha256(joints_model.rest.detach().double().cpu().numpy().round(6).tobytes())
    h.update(joints_model.rest_dirs.detach().double().cpu().numpy().round(6).tobytes())
    return h.hexdigest()[:16]


def _facts(config: HumorTrainConfig, train: MotionCorpus, val: MotionCorpus, joints_model: SkeletonJoints) -> dict:
    settings = asdict(config)
    arch = settings.pop("model")
    return {"architecture": arch, "settings": settings,
            "data": {"train": corpus_digest(train), "val": corpus_digest(val), "body_model": body_digest(joints_model)}}


def _check_corpus(corpus: object, name: str, window: int, fps: float) -> None:
    if not isinstance(corpus, MotionCorpus):
        raise TypeError(f"{name} must be a humanlib.data.MotionCorpus (load_humor_corpus); got {type(corpus).__name__}")
    if corpus.fps != fps:
        raise ValueError(f"{name} is at {corpus.fps:g} fps, the model's config at {fps:g} fps; give 30 fps data "
                         "(humor_data.load_humor_corpus) or set HumorConfig(fps=...) to the data's rate")
    if not any(c.num_frames >= window + 1 for c in corpus.clips):
        raise ValueError(f"every clip of {name} is shorter than a window of {window + 1} frames; give a shorter window")


def _evaluate(model: HumorModel, val_states, val_contacts, config: HumorTrainConfig) -> dict[str, float]:
    """Validation losses at the final KL weight, teacher-forced (``val_*``) and fed its own predictions (``val_own_*``)."""
    model.eval()
    out = {}
    with torch.no_grad():
        for prefix, p_own in (("val", 0.0), ("val_own", 1.0)):
            g = torch.Generator().manual_seed(config.seed + 1)
            parts = _window_loss(model, val_states, val_contacts, config.kl_weight, p_own, g, config.contact_weight)
            out.update({f"{prefix}_{k}": float(v) for k, v in parts.items()})
    model.train()
    return out


def train_humor(train: MotionCorpus, val: MotionCorpus, config: HumorTrainConfig, out_dir: str | Path,
                resume: bool = False, progress: bool = False, stop_at: int | None = None,
                metadata: dict | None = None, joints_model: SkeletonJoints | None = None) -> HumorTrainResult:
    """Train the transition model; write ``out_dir/last.pt`` (resumable) and ``out_dir/humor.pt`` (best on val).

    Args:
        train, val: corpus splits at the model's rate, 30 fps
            (:func:`humanlib.priors.humor_data.load_humor_corpus`); any rate with a matching ``HumorConfig.fps``.
        config: the run's settings.
        out_dir: folder of the checkpoints.
        resume: continue ``out_dir/last.pt`` (refused when settings, architecture or data differ).
        progress: a tqdm bar.
        stop_at: stop after this step (as an interruption would; ``last.pt`` is written).
        metadata: extra plain values stored in ``humor.pt`` (command, machine).
        joints_model: the body's forward kinematics (default: the open body model).

    Raises:
        TypeError, ValueError: bad corpora or arguments; ``resume`` of another run (one line naming
            the first difference); NaN losses (one line with the step).
        FileNotFoundError: ``resume`` without ``out_dir/last.pt``.
    """
    if not isinstance(config, HumorTrainConfig):
        raise TypeError(f"config must be a HumorTrainConfig; got {type(config).__name__}")
    _check_corpus(train, "train", config.window, config.model.fps)
    _check_corpus(val, "val", config.window, config.model.fps)
    if not isinstance(out_dir, (str, Path)):
        raise TypeError(f"out_dir must be a str or Path; got {type(out_dir).__name__}")
    if stop_at is not None:
        check_positive(stop_at, "stop_at", integer=True)
    joints_model = joints_model if joints_model is not None else SkeletonJoints(load_body_model())
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    run = _new_humor_run(train, val, config, joints_model)
    last = out / "last.pt"
    if resume:
        run.resume(last)
    from tqdm.auto import tqdm

    bar = tqdm(total=config.steps, initial=run.step, desc="train-humor", disable=not progress)
    while run.step < config.steps and not run.stopper.should_stop:
        beta, p_own = run.train_step(config)
        bar.update(1)
        if run.step % config.val_every == 0 or run.step == config.steps:
            row = run.validate(beta, p_own, config)
            bar.set_postfix_str(f"val {row['val_loss']:.2f} kl {row['val_kl']:.2f}", refresh=False)
        if run.step % config.val_every == 0 or run.step == config.steps or (stop_at is not None and run.step >= stop_at):
            save_atomically(run.state(), last)
        if stop_at is not None and run.step >= stop_at:
            break
    bar.close()
    model = run.model
    model.load_state_dict(run.best_state, strict=True)
    if run.step >= config.steps or run.stopper.should_stop:
        save_humor(model, out / "humor.pt", {**(metadata or {}), "history": run.history, "train_config": asdict(config),
                                             "data": run.facts["data"], "best_step": run.stopper.at,
                                             # this invocation's wall time (a resumed run: its last part)
                                             "wall_seconds": round(time.perf_counter() - t0, 1),
                                             "history_file": str(out / "history.json")})
    return HumorTrainResult(model, run.history, time.perf_counter() - t0)


def _new_humor_run(train: MotionCorpus, val: MotionCorpus, config: HumorTrainConfig,
                   joints_model: SkeletonJoints) -> "_HumorRun":
    """The seeded model, the training windows, the fixed validation windows and the standardisation."""
    torch.manual_seed(config.seed)
    model = HumorModel(config.model, joints_model)
    windows = _Windows(train, config.window + 1, config.stride)
    val_windows = _Windows(val, config.window + 1, config.window)
    g = torch.Generator().manual_seed(config.seed)
    pick = torch.randperm(len(val_windows), generator=torch.Generator().manual_seed(config.seed))[: config.num_val]
    val_states, val_contacts = window_states(*val_windows.get(pick), joints_model, config.model.fps)
    # standardisation from 4096 training windows (a fixed draw)
    norm_pick = torch.randperm(len(windows), generator=torch.Generator().manual_seed(config.seed + 2))[:4096]
    s, _ = window_states(*windows.get(norm_pick), joints_model, config.model.fps)
    model.set_normalization(s[:, :-1].reshape(-1, STATE_DIM), s[:, 1:].reshape(-1, STATE_DIM))
    return _HumorRun(model=model, optimizer=torch.optim.Adam(model.parameters(), lr=config.lr), batches=g,
                     windows=windows, val_states=val_states, val_contacts=val_contacts, joints_model=joints_model,
                     stopper=EarlyStopping(config.patience), facts=_facts(config, train, val, joints_model),
                     best_state={k: v.clone() for k, v in model.state_dict().items()})


@dataclass
class _HumorRun:
    """Everything a HuMoR training run carries from step to step (and through ``last.pt`` over a resume)."""

    model: HumorModel
    optimizer: torch.optim.Optimizer
    batches: torch.Generator
    windows: _Windows
    val_states: torch.Tensor
    val_contacts: torch.Tensor
    joints_model: SkeletonJoints
    stopper: EarlyStopping
    facts: dict
    best_state: dict
    step: int = 0
    history: list[dict] = field(default_factory=list)
    #: the training losses summed since the last validation, and their count
    sums: dict = field(default_factory=lambda: {"loss": 0.0, "recon": 0.0, "kl": 0.0, "contact": 0.0})
    count: int = 0

    def state(self) -> dict:
        """The training state written to ``last.pt``."""
        return {"model": self.model.state_dict(), **training_state(self.optimizer, {"batches": self.batches}),
                "step": self.step, "history": self.history, "early_stopping": self.stopper.state_dict(),
                "facts": self.facts, "best": self.best_state, "running": {"sums": dict(self.sums), "count": self.count}}

    def resume(self, last: Path) -> None:
        """Continue the run saved in ``last`` (refused when settings, architecture or data differ)."""
        state = read_training_state(last, "HuMoR training checkpoint", LAST_ENTRIES + ("best",))
        restore_training(last, state, state["facts"], self.facts, model=self.model, weights=state["model"],
                         optimizer=self.optimizer, generators={"batches": self.batches})
        self.step, self.history = int(state["step"]), list(state["history"])
        self.stopper.load_state_dict(state["early_stopping"])
        self.best_state = state["best"]
        # the training losses summed since the last validation (a state saved between two validations)
        running = state.get("running", {"sums": self.sums, "count": 0})
        self.sums, self.count = {k: float(v) for k, v in running["sums"].items()}, int(running["count"])

    def train_step(self, config: HumorTrainConfig) -> tuple[float, float]:
        """One optimiser step on a random batch of windows; its ``(beta, p_own)``."""
        model, g = self.model, self.batches
        which = torch.randint(len(self.windows), (config.batch_size,), generator=g)
        states, contacts = window_states(*self.windows.get(which), self.joints_model, config.model.fps)
        beta, p_own = kl_beta(self.step, config), sampling_probability(self.step, config)
        parts = _window_loss(model, states, contacts, beta, p_own, g, config.contact_weight)
        if not torch.isfinite(parts["loss"]):
            raise ValueError(f"the training loss is {float(parts['loss'])} at step {self.step}: lower --lr and train again")
        self.optimizer.zero_grad(set_to_none=True)
        parts["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        self.optimizer.step()
        self.step += 1
        self.count += 1
        for k in self.sums:
            self.sums[k] += float(parts[k].detach())
        return beta, p_own

    def validate(self, beta: float, p_own: float, config: HumorTrainConfig) -> dict:
        """A history row (training means since the last validation, validation losses); keeps the best weights."""
        row = {"step": self.step, "beta": beta, "p_own": p_own,
               **{f"train_{k}": v / self.count for k, v in self.sums.items()},
               **_evaluate(self.model, self.val_states, self.val_contacts, config)}
        self.history.append(row)
        self.sums, self.count = {k: 0.0 for k in self.sums}, 0
        # the weights kept: the lowest validation loss fed with the model's own predictions (what a
        # rollout does), among validations at the final KL weight (it rises during annealing)
        if beta >= config.kl_weight and self.stopper.update(row["val_own_loss"], self.step):
            self.best_state = {k: v.clone() for k, v in self.model.state_dict().items()}
        elif not math.isfinite(self.stopper.best):
            self.best_state = {k: v.clone() for k, v in self.model.state_dict().items()}
        return row


def save_humor(model: HumorModel, path: str | Path, metadata: dict | None = None) -> Path:
    """Write a checkpoint ``{format, config, state_dict, metadata}`` (loadable with ``weights_only``).

    Raises:
        TypeError: ``model`` not a :class:`HumorModel`, ``path`` not a path.
    """
    if not isinstance(model, HumorModel):
        raise TypeError(f"model must be a HumorModel; got {type(model).__name__}")
    meta = dict(metadata or {})
    meta.setdefault("data", {})
    meta["data"] = {**meta["data"], "body_model": body_digest(model.joints_model)}
    return save_atomically({"format": FORMAT, "config": config_dict(model.config),
                            "state_dict": model.state_dict(), "metadata": meta}, path)


def load_humor(path: str | Path | None = None, joints_model: SkeletonJoints | None = None,
               train_digest: str | None = None) -> tuple[HumorModel, dict]:
    """Load a checkpoint written by :func:`save_humor` (default: the committed ``humor_open.pt``).

    Args:
        path: the checkpoint.
        joints_model: the body model to roll out on (default: the open body model); refused when
            it is not the body the checkpoint was trained on.
        train_digest: refuse a checkpoint trained on another corpus (:func:`corpus_digest` of its train split).

    Returns:
        ``(model in eval mode, metadata)``.

    Raises:
        FileNotFoundError: no such file. ValueError: not a HuMoR checkpoint, keys or shapes that
            differ, another body model or corpus (one line naming the mismatch).
    """
    from humanlib import paths

    path = Path(path) if path is not None else paths.asset("priors/humor_open.pt")
    if not path.is_file():
        raise FileNotFoundError(f"no HuMoR checkpoint at {path}; train one with `humanlib train-humor --out DIR`")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file surfaces as many exception types
        raise ValueError(f"{path} is not a readable torch checkpoint ({type(exc).__name__}); "
                         "give a file written by `humanlib train-humor`") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path} is not a HuMoR checkpoint (format {state.get('format') if isinstance(state, dict) else None!r}, "
                         f"expected {FORMAT!r}); give a file written by `humanlib train-humor`")
    check_entries(state, CHECKPOINT_ENTRIES, path, "HuMoR checkpoint")
    try:
        config = HumorConfig(**state["config"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: its config is not a HumorConfig ({exc})") from None
    joints_model = joints_model if joints_model is not None else SkeletonJoints(load_body_model())
    meta = state["metadata"]
    saved_body = meta.get("data", {}).get("body_model")
    if saved_body != body_digest(joints_model):
        raise ValueError(f"{path} was trained on another body model (rest joints {saved_body}, this one "
                         f"{body_digest(joints_model)}); train again on this body with `humanlib train-humor`")
    if train_digest is not None and meta.get("data", {}).get("train") != train_digest:
        raise ValueError(f"{path} was trained on another corpus (train {meta.get('data', {}).get('train')!r}, "
                         f"now {train_digest!r}); train again with `humanlib train-humor`")
    model = HumorModel(config, joints_model)
    expected = set(model.state_dict())
    got = set(state["state_dict"])
    if expected != got:
        raise ValueError(f"{path}: its weights do not match this HumorModel (missing {sorted(expected - got)[:3]}, "
                         f"unexpected {sorted(got - expected)[:3]}); it was written by another version")
    try:
        model.load_state_dict(state["state_dict"], strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{path}: its weights do not fit this HumorModel ({str(exc).splitlines()[-1].strip()})") from None
    return model.eval(), meta


__all__ = ["FORMAT", "HumorTrainConfig", "HumorTrainResult", "body_digest", "corpus_digest", "kl_beta", "load_humor",
           "sampling_probability", "save_humor", "train_humor", "window_loss", "window_states"]
