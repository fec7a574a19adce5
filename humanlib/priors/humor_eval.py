"""How plausible HuMoR's sampled motions are: rollouts from test start poses, measured.

:func:`evaluate_humor` draws start states from the committed test split (30 fps), rolls the
model out (:meth:`~humanlib.priors.humor_model.HumorModel.rollout`) with latents from the
learned prior and, as the ablation, from ``N(0, I)``, and measures each set of rollouts with
:func:`rollout_metrics`:

* ``finite``: the fraction of frames whose state holds no NaN/inf;
* ``feet_on_floor``: the fraction of finite frames whose lowest foot joint (ankles, toes) is
  within ``floor_tolerance`` (5 cm) of the floor, the floor being the height of that joint in
  the lowest frame of the start's own clip (so the toe joint's height above the sole cancels);
* ``speed_in_range``: the fraction of finite frames whose fastest joint is no faster than the
  fastest joint of the whole test split.

The same metrics of the test clips themselves are the reference (``data``): the test split
holds CMU subject 03's walks on uneven terrain, where real feet leave the floor too. A long
rollout (30 s) shows the failure the original paper also reports: drift (``drift``, per second).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import torch

from humanlib._validate import check_positive, check_tensor
from humanlib.data.corpus import MotionCorpus, load_corpus
from humanlib.priors.humor_model import HumorModel
from humanlib.priors.humor_state import FOOT_JOINTS, STATE_DIM, STATE_SLICES, UP_AXIS, motion_to_state


@dataclass
class RolloutEvalConfig:
    """Settings of :func:`evaluate_humor`.

    Attributes:
        num_starts: start states (test clips drawn with replacement, a frame of each).
        seconds: length of the rollouts measured (4 s).
        long_seconds: length of the drift rollout (30 s).
        num_long: start states of the drift rollout.
        floor_tolerance: metres from the floor that still count as "on the floor".
        seed: seed of the starts and of the latents.
    """

    num_starts: int = 64
    seconds: float = 4.0
    long_seconds: float = 30.0
    num_long: int = 16
    floor_tolerance: float = 0.05
    seed: int = 0

    def __post_init__(self) -> None:
        """Raises ``TypeError``/``ValueError`` for a field that is not positive."""
        for name in ("num_starts", "num_long"):
            check_positive(getattr(self, name), name, integer=True)
        for name in ("seconds", "long_seconds", "floor_tolerance"):
            check_positive(getattr(self, name), name)
        check_positive(self.seed, "seed", integer=True, allow_zero=True)


def _lowest_foot(states: torch.Tensor) -> torch.Tensor:
    J = states[..., STATE_SLICES["joints"]].unflatten(-1, (-1, 3))
    return J[..., list(FOOT_JOINTS), UP_AXIS].amin(-1)


def _max_speed(states: torch.Tensor) -> torch.Tensor:
    return states[..., STATE_SLICES["joints_vel"]].unflatten(-1, (-1, 3)).norm(dim=-1).amax(-1)


def rollout_metrics(states: torch.Tensor, floor: torch.Tensor, max_speed: float,
                    floor_tolerance: float = 0.05) -> dict[str, float]:
    """The module's metrics of rollouts ``(B, T, STATE_DIM)`` (NaN frames allowed) with floors ``(B,)``.

    Returns:
        ``{"frames", "finite", "feet_on_floor", "speed_in_range"}`` (fractions in [0, 1]) and how much the
        motion moves: ``mean_root_speed`` (horizontal, m/s) and ``mean_joint_speed`` (m/s), over finite frames.

    Raises:
        TypeError, ValueError: wrong shapes; NaN ``floor``; ``max_speed``/``floor_tolerance`` <= 0.
    """
    states = check_tensor(states, "states", (None, None, STATE_DIM), finite=False)
    floor = check_tensor(floor, "floor", (states.shape[0],))
    check_positive(max_speed, "max_speed")
    check_positive(floor_tolerance, "floor_tolerance")
    finite = torch.isfinite(states).all(-1)
    n = max(int(finite.sum()), 1)
    on_floor = ((_lowest_foot(states) - floor[:, None]).abs() <= floor_tolerance) & finite
    in_range = (_max_speed(states) <= max_speed) & finite
    # how much it moves (a motion that freezes keeps its feet on the floor too)
    vel = states[..., STATE_SLICES["trans_vel"]]
    root_speed = vel[..., [0, 2]].norm(dim=-1)
    joint_speed = states[..., STATE_SLICES["joints_vel"]].unflatten(-1, (-1, 3)).norm(dim=-1).mean(-1)
    return {"frames": int(finite.numel()), "finite": float(finite.float().mean()),
            "feet_on_floor": float(on_floor.sum()) / n, "speed_in_range": float(in_range.sum()) / n,
            "mean_root_speed": float(root_speed[finite].mean()) if bool(finite.any()) else float("nan"),
            "mean_joint_speed": float(joint_speed[finite].mean()) if bool(finite.any()) else float("nan")}


def _clip_states(model: HumorModel, corpus: MotionCorpus) -> list[torch.Tensor]:
    out = []
    for i in range(len(corpus.clips)):
        p, t = corpus.clip(i)
        out.append(motion_to_state(p, t, model.joints_model, corpus.fps) if len(p) >= 2 else None)
    return out


def evaluate_humor(model: HumorModel, config: RolloutEvalConfig | None = None,
                   corpus: MotionCorpus | None = None) -> dict:
    """Rollouts from test start poses, learned prior vs ``N(0, I)``, the data's reference and the drift.

    Args:
        model: a trained :class:`~humanlib.priors.humor_model.HumorModel`.
        config: the settings (default :class:`RolloutEvalConfig`).
        corpus: 30 fps clips to start from (default: the committed test split).

    Returns:
        A JSON-ready dict: ``config``, ``max_speed``, ``data``, ``rollout`` (``learned_prior``,
        ``standard_normal``), ``drift`` and ``rollout_frames_per_s``.

    Raises:
        TypeError: ``model``/``config``/``corpus`` of the wrong type.
        ValueError: a corpus that is not at the model's frame rate.
    """
    config, corpus = _check_eval_args(model, config, corpus)
    fps = model.config.fps
    test = _TestClips(model, corpus)
    g = torch.Generator().manual_seed(config.seed)  # one generator, drawn in order: short starts, rollouts, drift
    data_metrics = test.reference(config.floor_tolerance)
    start, floor = test.starts(config.num_starts, g)
    frames = int(round(config.seconds * fps))
    results = {}
    t0 = time.perf_counter()
    for name, learned in (("learned_prior", True), ("standard_normal", False)):
        states, contacts = model.rollout(start, frames, learned_prior=learned, generator=g)
        results[name] = rollout_metrics(states[:, 1:], floor, test.max_speed, config.floor_tolerance)
        results[name]["contact_rate"] = float(torch.nan_to_num(contacts, nan=0.0).gt(0.5).float().mean())
    fps_rollout = 2 * config.num_starts * frames / (time.perf_counter() - t0)
    drift = _drift(model, test, config, g)
    return {"config": asdict(config), "fps": fps, "max_speed": test.max_speed, "data_max_speed": float(test.speeds.max()),
            "data": data_metrics, "rollout": results, "drift": drift, "rollout_frames_per_s": fps_rollout}


def _check_eval_args(model, config, corpus) -> tuple[RolloutEvalConfig, MotionCorpus]:
    """The checks of :func:`evaluate_humor`; the config and corpus with their defaults."""
    if not isinstance(model, HumorModel):
        raise TypeError(f"model must be a HumorModel (load_humor); got {type(model).__name__}")
    config = config if config is not None else RolloutEvalConfig()
    if not isinstance(config, RolloutEvalConfig):
        raise TypeError(f"config must be a RolloutEvalConfig; got {type(config).__name__}")
    corpus = corpus if corpus is not None else load_corpus("test")
    if not isinstance(corpus, MotionCorpus):
        raise TypeError(f"corpus must be a humanlib.data.MotionCorpus; got {type(corpus).__name__}")
    if corpus.fps != model.config.fps:
        raise ValueError(f"the corpus is at {corpus.fps:g} fps, the model at {model.config.fps:g} fps; "
                         "give a corpus at the model's rate (load_humor_corpus)")
    return config, corpus


class _TestClips:
    """The test clips as states: their floors, their speeds' range, and start states drawn from them."""

    def __init__(self, model: HumorModel, corpus: MotionCorpus) -> None:
        self.clips = _clip_states(model, corpus)
        self.usable = [i for i, s in enumerate(self.clips) if s is not None]
        self.floors = torch.stack([_lowest_foot(self.clips[i]).min() for i in self.usable])
        self.speeds = torch.cat([_max_speed(self.clips[i][1:]) for i in self.usable])
        # the range: the 99.9th percentile of the test frames' fastest joint (the maximum is a retargeting glitch)
        self.max_speed = float(torch.quantile(self.speeds, 0.999))

    def starts(self, n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` start states (a random frame of a random clip, with replacement) and their clips' floors."""
        which = torch.randint(len(self.usable), (n,), generator=g)
        rows = []
        for k in which.tolist():
            s = self.clips[self.usable[k]]
            rows.append(s[int(torch.randint(1, len(s), (1,), generator=g))])
        return torch.stack(rows), self.floors[which]

    def reference(self, floor_tolerance: float) -> dict[str, float]:
        """What the test clips themselves score, frame-weighted over the clips."""
        data_metrics = {k: 0.0 for k in ("finite", "feet_on_floor", "speed_in_range", "mean_root_speed", "mean_joint_speed")}
        total = 0
        for n, i in enumerate(self.usable):
            m = rollout_metrics(self.clips[i][1:][None], self.floors[n][None], self.max_speed, floor_tolerance)
            for k in data_metrics:
                data_metrics[k] += m[k] * m["frames"]
            total += m["frames"]
        return {k: v / total for k, v in data_metrics.items()}


def _drift(model: HumorModel, test: _TestClips, config: RolloutEvalConfig, g: torch.Generator) -> dict:
    """Second by second of a long rollout, learned prior vs ``N(0, I)``: the metrics and the root's height change."""
    fps = model.config.fps
    long_start, long_floor = test.starts(config.num_long, g)
    long_frames = int(round(config.long_seconds * fps))
    drift = {}
    for name, learned in (("learned_prior", True), ("standard_normal", False)):
        states, _ = model.rollout(long_start, long_frames, learned_prior=learned, generator=g)
        rows = []
        for sec in range(1, int(config.long_seconds) + 1):
            seg = states[:, 1 + int((sec - 1) * fps): 1 + int(sec * fps)]
            m = rollout_metrics(seg, long_floor, test.max_speed, config.floor_tolerance)
            height = (seg[..., STATE_SLICES["trans"]][..., UP_AXIS] - long_start[:, None, STATE_SLICES["trans"]][..., UP_AXIS])
            m["root_height_change_m"] = float(torch.nanmean(height.abs())) if torch.isfinite(height).any() else float("nan")
            rows.append({"second": sec, **m})
        drift[name] = rows
    return drift

__all__ = ["RolloutEvalConfig", "evaluate_humor", "rollout_metrics"]
