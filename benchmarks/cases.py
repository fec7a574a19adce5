"""The measurements: body-model forward pass, SMPLify, Pose-NDF, VPoser.

Each ``bench_*`` function returns a list of plain rows (dicts) for the results file. The
sizes come from a :class:`Plan`: :data:`FULL` is the committed run, :data:`QUICK` the
smoke run of the tests (tiny sizes, one repeat: its numbers mean nothing).

Trained networks come from the committed checkpoints when they exist; otherwise a freshly
initialised network of the same architecture is timed (the cost of a forward/backward pass
does not depend on the weights) and the row says so. SMPLify's iteration counts, however,
do depend on the prior through L-BFGS's line search, so its rows name the weights used.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from benchmarks.timing import load_average, peak_tensor_memory, time_call
from humanlib.priors.humor_fit import HumorFitConfig

MB = 1e6


@dataclass(frozen=True)
class Plan:
    """Sizes and repeat counts of one run.

    Attributes:
        forward_batches: batch sizes of the body-model forward pass.
        forward_budget_s: time budget of the timed calls per (implementation, batch, device).
        warmup: untimed calls before the timed ones.
        min_repeats: fewest timed calls of the fast figures (forward pass, encode/decode).
        max_repeats: most timed calls of the fast figures.
        heavy_repeats: timed calls of the slow figures (fits, k-NN, training blocks, projection).
        smplify_batches: frames fitted at once.
        smplify_priors: prior names of :func:`humanlib.fitting.jobs.make_prior`.
        smplify_iterations: L-BFGS iterations of the camera step and of each of the 4 stages
            (30: the course's default, :func:`humanlib.fitting.smplify_stages`).
        smplify_batch_solver: priors also timed with ``optimizer="batch"`` (one L-BFGS for the batch).
        dataset_frames: frames of the dataset fitted by ``humanlib fit DIR`` (files of 64 frames).
        dataset_workers: torchrun worker counts of the dataset fit.
        knn_queries: noisy poses labelled per timed call.
        knn_manifold: manifold (training) poses searched (Pose-NDF's default: 20,000).
        posendf_steps: training steps per timed block.
        posendf_batch: training batch size (Pose-NDF's default: 256).
        projection_poses: poses projected at once.
        projection_steps: projection steps (all taken: the tolerance is 0).
        vposer_steps: training steps per timed block.
        vposer_batch: training batch size (the course's default: 256).
        codec_batch: poses per encode/decode call.
        collision_batches: bodies per call of SMPLify-X's collision term E_c.
        humor_steps: HuMoR training steps per timed block.
        humor_batch: HuMoR training windows per step (the course's default: 64 windows of 10 transitions).
        humor_rollout_batch, humor_rollout_frames: motions sampled at once, and frames of each.
        humor_tto_windows, humor_tto_frames: test windows fitted at once by HuMoR's test-time optimisation,
            and their length.
        humor_tto_iterations: L-BFGS iterations of its three stages.
    """

    forward_batches: tuple[int, ...] = (1, 64, 1024)
    forward_budget_s: float = 5.0
    warmup: int = 1
    min_repeats: int = 7
    max_repeats: int = 100
    heavy_repeats: int = 5
    smplify_batches: tuple[int, ...] = (1, 16, 64)
    smplify_priors: tuple[str, ...] = ("none", "gmm-min", "vposer", "posendf")
    smplify_iterations: int = 30
    smplify_batch_solver: tuple[str, ...] = ("gmm-min",)
    dataset_frames: int = 2048
    dataset_workers: tuple[int, ...] = (1, 2)
    knn_queries: int = 2048
    knn_manifold: int = 20_000
    posendf_steps: int = 50
    posendf_batch: int = 256
    projection_poses: int = 1000
    projection_steps: int = 100
    vposer_steps: int = 50
    vposer_batch: int = 256
    codec_batch: int = 1024
    collision_batches: tuple[int, ...] = (1, 16)
    humor_steps: int = 20
    humor_batch: int = 64
    humor_rollout_batch: int = 16
    humor_rollout_frames: int = 120
    humor_tto_windows: int = 2
    humor_tto_frames: int = 60
    humor_tto_iterations: tuple[int, int, int] = HumorFitConfig().stage_iterations


FULL = Plan()
QUICK = Plan(
    forward_batches=(1, 4), forward_budget_s=0.0, warmup=0, min_repeats=1, max_repeats=1, heavy_repeats=1,
    smplify_batches=(1, 2), smplify_iterations=1, dataset_frames=8,
    knn_queries=16, knn_manifold=200, posendf_steps=2, posendf_batch=8,
    projection_poses=8, projection_steps=3, vposer_steps=2, vposer_batch=8, codec_batch=8,
    collision_batches=(1, 2), humor_steps=2, humor_batch=4, humor_rollout_batch=2, humor_rollout_frames=5,
    humor_tto_windows=1, humor_tto_frames=6, humor_tto_iterations=(1, 1, 1),
)


def _random_inputs(batch: int, num_betas: int, device: str, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    betas = torch.randn(batch, num_betas, generator=g)
    pose = 0.3 * torch.randn(batch, 24, 3, generator=g)
    transl = torch.randn(batch, 3, generator=g)
    return tuple(x.to(device) for x in (betas, pose, transl))


def _storage_bytes(module: torch.nn.Module) -> int:
    """Bytes of the storages behind a module's buffers and parameters (a sliced view keeps all of its storage)."""
    storages = {}
    for t in list(module.buffers()) + list(module.parameters()):
        storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
    return sum(storages.values())


def _heavy(fn: Callable[[], object], plan: Plan):
    """Time a slow call: ``plan.warmup`` untimed calls, then exactly ``plan.heavy_repeats`` timed ones."""
    return time_call(fn, 0.0, plan.heavy_repeats, plan.heavy_repeats, plan.warmup)


def _section(name: str, rows: list[dict], started: float, load_before: list[float]) -> dict:
    return {
        "name": name,
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "rows": rows,
    }


# --------------------------------------------------------------------------- body model


def body_forward_calls(batch: int, device: str) -> dict[str, Callable[[], object]]:
    """``{"ours": f, "smplx": g}``: one forward pass of the same open model file, no autograd."""
    from humanlib.body import load_body_model, smplx_model

    ours = load_body_model(num_betas=10, device=device)
    theirs = smplx_model(num_betas=10).to(device)
    betas, pose, transl = _random_inputs(batch, 10, device)
    body_pose = pose[:, 1:].reshape(batch, -1)

    @torch.no_grad()
    def run_ours():
        return ours(betas=betas, pose=pose, transl=transl).vertices

    @torch.no_grad()
    def run_smplx():
        return theirs(betas=betas, global_orient=pose[:, 0], body_pose=body_pose, transl=transl).vertices

    run_ours.model, run_smplx.model = ours, theirs
    return {"ours": run_ours, "smplx": run_smplx}


def bench_body_forward(plan: Plan, devices: tuple[str, ...]) -> dict:
    """Forward pass (vertices and joints of B bodies), ours vs ``smplx.SMPL`` on the same file."""
    started, load_before = time.time(), load_average()
    rows = []
    for device in devices:
        for batch in plan.forward_batches:
            calls = body_forward_calls(batch, device)
            for impl, fn in calls.items():
                timing = time_call(fn, plan.forward_budget_s, plan.min_repeats, plan.max_repeats, plan.warmup, device)
                rows.append({
                    "device": device, "batch": batch, "impl": impl,
                    "timing": timing.as_dict(),
                    "ms": 1e3 * timing.median_s,
                    "bodies_per_s": batch / timing.median_s,
                    "peak_mb": peak_tensor_memory(fn, device) / MB,
                    "model_mb": _storage_bytes(fn.model) / MB,
                })
                print(f"  forward {device} B={batch:<5} {impl:<6} {rows[-1]['ms']:9.2f} ms  "
                      f"peak {rows[-1]['peak_mb']:8.1f} MB", flush=True)
    return _section("body_forward", rows, started, load_before)


def profile_body_forward(batch: int, top: int = 6) -> dict:
    """The operators that take the most CPU time in one forward pass, for ours and smplx."""
    from torch.profiler import ProfilerActivity, profile

    out = {"batch": batch, "ops": {}}
    for impl, fn in body_forward_calls(batch, "cpu").items():
        fn()
        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            fn()
        events = prof.key_averages(group_by_input_shape=True)
        total = sum(e.self_cpu_time_total for e in events) or 1.0
        ranked = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:top]
        out["ops"][impl] = [
            {"op": e.key, "input_shapes": str(e.input_shapes)[:120], "calls": e.count,
             "self_ms": e.self_cpu_time_total / 1e3, "share": e.self_cpu_time_total / total}
            for e in ranked
        ]
        out["ops"][impl + "_total_ms"] = total / 1e3
    return out


# --------------------------------------------------------------------------- SMPLify


def _prior(name: str) -> tuple[object, str]:
    """The prior and the weights it uses (committed checkpoint, or untrained when none is committed)."""
    from humanlib.fitting.jobs import make_prior

    try:
        return make_prior(name), "committed" if name not in ("none",) else "-"
    except FileNotFoundError:
        if name == "vposer":
            from humanlib.priors.vposer import VPoser, VPoserPrior

            torch.manual_seed(0)
            return VPoserPrior(VPoser()), "untrained (no committed checkpoint)"
        if name == "posendf":
            from humanlib.priors.posendf import PoseNDF, PoseNDFPrior

            torch.manual_seed(0)
            return PoseNDFPrior(PoseNDF()), "untrained (no committed checkpoint)"
        raise


def bench_smplify(plan: Plan) -> dict:
    """Frames fitted per second by :func:`humanlib.fitting.fit_smplify` on synthetic keypoints."""
    from humanlib.body import load_body_model
    from humanlib.fitting import SMPLifyConfig, fit_smplify, smplify_stages
    from humanlib.fitting.evaluate import SyntheticConfig, make_synthetic_batch
    from humanlib.fitting.jobs import corpus_test_poses

    started, load_before = time.time(), load_average()
    model = load_body_model()
    poses = corpus_test_poses(max(plan.smplify_batches))
    batches = {b: make_synthetic_batch(model, poses[:b], SyntheticConfig(), seed=0) for b in plan.smplify_batches}
    rows = []
    runs = [(name, "per-frame") for name in plan.smplify_priors] + [(name, "batch") for name in plan.smplify_batch_solver]
    for name, optimizer in runs:
        prior, weights = _prior(name)
        config = SMPLifyConfig(stages=smplify_stages(iterations=plan.smplify_iterations),
                               camera_iterations=plan.smplify_iterations, optimizer=optimizer)
        for b, batch in batches.items():
            flipped = []

            def fit():
                res = fit_smplify(model, batch.keypoints, batch.confidence, batch.camera, prior, config)
                flipped.append(int(res.flipped.sum()))

            timing = _heavy(fit, plan)
            rows.append({"prior": name, "optimizer": optimizer, "weights": weights, "batch": b,
                         "timing": timing.as_dict(), "seconds": timing.median_s, "fps": b / timing.median_s,
                         "flipped": flipped[-1]})
            print(f"  smplify {name:<8} {optimizer:<9} B={b:<3} {timing.median_s:7.2f} s  {rows[-1]['fps']:7.2f} frames/s",
                  flush=True)
    section = _section("smplify", rows, started, load_before)
    section["iterations"] = plan.smplify_iterations
    section["synthetic"] = "corpus test-split poses; `SyntheticConfig` defaults: known cameras, 5 px noise, 10 % missing joints"
    return section


def bench_dataset_fit(plan: Plan) -> dict:
    """Frames per second of ``humanlib fit DIR`` (GMM min) under torchrun with 1 and 2 CPU workers.

    Each worker runs with ``cores // workers`` torch threads; the time is the whole command
    (start-up, loading, fitting, merging), one run per worker count.
    """
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    import numpy as np

    from humanlib.body import load_body_model
    from humanlib.fitting.evaluate import SyntheticConfig, make_synthetic_batch
    from humanlib.fitting.jobs import corpus_test_poses

    started, load_before = time.time(), load_average()
    model = load_body_model()
    poses = corpus_test_poses(plan.dataset_frames)
    cores = os.cpu_count() or 1
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "keypoints"
        data.mkdir()
        for k, first in enumerate(range(0, plan.dataset_frames, 64)):
            batch = make_synthetic_batch(model, poses[first : first + 64], SyntheticConfig(), seed=k)
            np.savez(data / f"clip{k:03d}.npz", keypoints=batch.keypoints.numpy(), confidence=batch.confidence.numpy())
        for workers in plan.dataset_workers:
            out = Path(tmp) / f"out{workers}"
            env = {**os.environ, "OMP_NUM_THREADS": str(max(1, cores // workers))}
            command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(workers), "-m", "humanlib",
                       "fit", str(data), "--out", str(out), "--iterations", str(plan.smplify_iterations),
                       "--device", "cpu"]
            begin = time.perf_counter()
            subprocess.run(command, check=True, env=env, capture_output=True, text=True)
            seconds = time.perf_counter() - begin
            rows.append({"workers": workers, "threads_per_worker": max(1, cores // workers),
                         "frames": plan.dataset_frames, "seconds": seconds, "fps": plan.dataset_frames / seconds})
            print(f"  dataset fit, {workers} worker(s): {seconds:7.1f} s  {rows[-1]['fps']:7.2f} frames/s", flush=True)
    section = _section("dataset_fit", rows, started, load_before)
    section["iterations"] = plan.smplify_iterations
    return section


# --------------------------------------------------------------------------- Pose-NDF


def _manifold_quats(num: int) -> torch.Tensor:
    from humanlib.priors.posendf_train import corpus_quats

    return corpus_quats("train", num)


def bench_posendf(plan: Plan) -> dict:
    """k-NN labelling, training steps, and projection of Pose-NDF."""
    from humanlib.priors.posendf import PoseNDF, ProjectionConfig, load_posendf, project
    from humanlib.priors.posendf_data import DistanceDataset, knn_pose_distance, perturb_quats
    from humanlib.priors.posendf_train import PoseNDFTrainConfig, train_posendf

    started, load_before = time.time(), load_average()
    rows = []
    sigmas = (0.01, 0.05, 0.1, 0.25, 0.5)
    manifold = _manifold_quats(plan.knn_manifold)
    g = torch.Generator().manual_seed(0)
    base = manifold[torch.randint(len(manifold), (plan.knn_queries,), generator=g)]
    queries, sigma = perturb_quats(base, sigmas, g)
    labels = []

    def label():
        labels.append(knn_pose_distance(queries, manifold, k=1, metric="talk").distance)

    timing = _heavy(label, plan)
    rows.append({"task": "knn_labelling", "setting": f"{plan.knn_queries:,} noisy poses vs {len(manifold):,} manifold poses, "
                 "exact search, talk metric", "timing": timing.as_dict(), "seconds": timing.median_s,
                 "throughput": plan.knn_queries / timing.median_s, "unit": "poses/s",
                 "ns_per_pair": 1e9 * timing.median_s / (plan.knn_queries * len(manifold))})
    print(f"  posendf knn {rows[-1]['throughput']:9.1f} poses/s  {rows[-1]['ns_per_pair']:.1f} ns/pair", flush=True)

    train = DistanceDataset(quats=queries, distance=labels[-1], sigma=sigma)
    config = PoseNDFTrainConfig(steps=plan.posendf_steps, batch_size=plan.posendf_batch, val_every=plan.posendf_steps,
                                num_threads=torch.get_num_threads())
    seconds = []

    def steps():
        seconds.append(train_posendf(train, None, config, progress=False).seconds)

    timing = _heavy(steps, plan)
    timed = sorted(seconds[plan.warmup:])
    per_block = timed[len(timed) // 2]  # the training loop's own time, without building the model
    rows.append({"task": "training", "setting": f"batch {plan.posendf_batch}, UDF + eikonal loss (double backward), Adam",
                 "timing": timing.as_dict(), "seconds": per_block / plan.posendf_steps,
                 "throughput": plan.posendf_steps / per_block, "unit": "steps/s"})
    print(f"  posendf train {rows[-1]['throughput']:7.2f} steps/s", flush=True)

    try:
        model, weights = load_posendf(), "committed"
    except FileNotFoundError:
        torch.manual_seed(0)
        model, weights = PoseNDF().eval(), "untrained (no committed checkpoint)"
    start_poses = queries[: plan.projection_poses]
    if len(start_poses) < plan.projection_poses:
        start_poses = perturb_quats(manifold[torch.randint(len(manifold), (plan.projection_poses,), generator=g)], sigmas, g)[0]
    proj = ProjectionConfig(max_steps=plan.projection_steps, tolerance=0.0, record_trajectory=False)
    timing = _heavy(lambda: project(model, start_poses, proj), plan)
    rows.append({"task": "projection", "setting": f"{plan.projection_poses:,} poses x {plan.projection_steps} steps "
                 "(tolerance 0: every step taken)", "weights": weights, "timing": timing.as_dict(),
                 "seconds": timing.median_s, "throughput": plan.projection_poses / timing.median_s, "unit": "poses/s",
                 "poses": plan.projection_poses, "steps": plan.projection_steps})
    print(f"  posendf projection {timing.median_s:7.2f} s", flush=True)
    return _section("posendf", rows, started, load_before)


# --------------------------------------------------------------------------- VPoser


def bench_vposer(plan: Plan) -> dict:
    """VPoser training steps (the talk's loss) and encode / decode throughput."""
    from humanlib.data import load_corpus
    from humanlib.priors.vposer import VPoser, VPoserLossConfig, load_vposer, vposer_loss
    from humanlib.skeleton import BODY_JOINTS

    started, load_before = time.time(), load_average()
    rows = []
    all_poses = torch.as_tensor(load_corpus("train").poses, dtype=torch.float32)[:, list(BODY_JOINTS)]
    g = torch.Generator().manual_seed(0)

    torch.manual_seed(0)
    model = VPoser()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_config = VPoserLossConfig.talk()
    batches = [all_poses[torch.randint(len(all_poses), (plan.vposer_batch,), generator=g)] for _ in range(plan.vposer_steps)]

    def steps():  # the inner loop of humanlib.priors.train_vposer.train_vposer
        model.train()
        for batch in batches:
            loss = vposer_loss(model, batch, loss_config)
            optimizer.zero_grad(set_to_none=True)
            loss.total.backward()
            optimizer.step()

    timing = _heavy(steps, plan)
    rows.append({"task": "training", "setting": f"batch {plan.vposer_batch}, talk loss (KL, rotation matrices, orth, det, L2), Adam",
                 "timing": timing.as_dict(), "seconds": timing.median_s / plan.vposer_steps,
                 "throughput": plan.vposer_steps / timing.median_s, "unit": "steps/s"})
    print(f"  vposer train {rows[-1]['throughput']:7.2f} steps/s", flush=True)

    try:
        net, weights = load_vposer(), "committed"
    except FileNotFoundError:
        net, weights = model, "untrained (no committed checkpoint)"
    net.eval()
    batch = all_poses[torch.randint(len(all_poses), (plan.codec_batch,), generator=g)]
    with torch.no_grad():
        z = net.encode(batch).mean
    for task, fn in (("encode", lambda: net.encode(batch).mean), ("decode", lambda: net.decode(z).pose)):
        with torch.no_grad():
            timing = time_call(fn, 1.0, plan.min_repeats, plan.max_repeats, plan.warmup)
        what = "axis-angle -> latent mean" if task == "encode" else "latent -> rotation matrices -> axis-angle"
        rows.append({"task": task, "setting": f"{plan.codec_batch:,} poses per call, {what}", "weights": weights,
                     "timing": timing.as_dict(), "seconds": timing.median_s,
                     "throughput": plan.codec_batch / timing.median_s, "unit": "poses/s"})
        print(f"  vposer {task} {rows[-1]['throughput']:10.0f} poses/s", flush=True)
    return _section("vposer", rows, started, load_before)


# --------------------------------------------------------------------------- HuMoR


def bench_humor(plan: Plan) -> dict:
    """HuMoR: training steps (the CVAE loss with scheduled sampling), rollout and test-time optimisation throughput.

    Training windows come from the test split (stored at 30 fps, the model's rate; the training run itself reads
    the train split rebuilt at 30 fps), so the row needs no rebuilt corpus. The TTO starts from the GMM-prior fit
    of :mod:`humanlib.experiments.humor_method` (not timed) on test windows with 4 cm joint noise.
    """
    from humanlib.body import SkeletonJoints, load_body_model
    from humanlib.data import load_corpus
    from humanlib.experiments.motion_fit import MotionFitConfig, fit_motion
    from humanlib.priors.humor_fit import fit_humor
    from humanlib.priors.humor_model import HumorConfig, HumorModel
    from humanlib.priors.humor_state import joint_positions
    from humanlib.priors.humor_train import _window_loss, load_humor, window_states
    from humanlib.priors.registry import load_prior

    started, load_before = time.time(), load_average()
    rows = []
    body = load_body_model()
    jm = SkeletonJoints(body)
    try:
        trained, weights = load_humor(None, jm)[0], "committed"
    except FileNotFoundError:
        trained, weights = None, "untrained (no committed checkpoint)"
    test = load_corpus("test")
    g = torch.Generator().manual_seed(0)
    length = 11  # 10 transitions (the training window) and the frame before them
    starts = [(i, s) for i, clip in enumerate(test.clips) for s in range(0, clip.num_frames - length, length)]

    def windows(count: int) -> tuple[torch.Tensor, torch.Tensor]:
        ps, ts = [], []
        for k in torch.randint(len(starts), (count,), generator=g).tolist():
            (clip, first), (p, t) = starts[k], test.clip(starts[k][0])
            ps.append(p[first:first + length])
            ts.append(t[first:first + length])
        return torch.stack(ps).float(), torch.stack(ts).float()

    torch.manual_seed(0)
    model = HumorModel(trained.config if trained is not None else HumorConfig(), jm)  # trained afresh: its speed
    batches = [window_states(*windows(plan.humor_batch), jm, model.config.fps) for _ in range(plan.humor_steps)]
    s0 = torch.cat([b[0] for b in batches])
    model.set_normalization(s0[:, :-1].reshape(-1, s0.shape[-1]), s0[:, 1:].reshape(-1, s0.shape[-1]))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def steps():  # the inner loop of humanlib.priors.humor_train.train_humor (beta 1, half own predictions)
        for states, contacts in batches:
            parts = _window_loss(model, states, contacts, 1.0, 0.5, g, 1.0)
            optimizer.zero_grad(set_to_none=True)
            parts["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            optimizer.step()

    timing = _heavy(steps, plan)
    rows.append({"task": "training", "setting": f"batch {plan.humor_batch} windows of 10 transitions, CVAE loss with "
                 "learned prior, contacts, scheduled sampling p = 0.5, Adam", "timing": timing.as_dict(),
                 "seconds": timing.median_s / plan.humor_steps, "throughput": plan.humor_steps / timing.median_s,
                 "unit": "steps/s"})
    print(f"  humor train {rows[-1]['throughput']:7.2f} steps/s", flush=True)

    net = trained if trained is not None else model
    net.eval()
    start = batches[0][0][:plan.humor_rollout_batch, 0]
    if start.shape[0] < plan.humor_rollout_batch:
        start = start[:1].expand(plan.humor_rollout_batch, -1).clone()
    with torch.no_grad():
        timing = _heavy(lambda: net.rollout(start, plan.humor_rollout_frames, generator=g), plan)
    frames = plan.humor_rollout_batch * plan.humor_rollout_frames
    rows.append({"task": "rollout", "setting": f"{plan.humor_rollout_batch} motions x {plan.humor_rollout_frames} "
                 "frames sampled from the learned prior", "weights": weights, "timing": timing.as_dict(),
                 "seconds": timing.median_s, "throughput": frames / timing.median_s, "unit": "frames/s"})
    print(f"  humor rollout {rows[-1]['throughput']:9.0f} frames/s", flush=True)

    T = plan.humor_tto_frames
    clip_starts = [(i, 0) for i, clip in enumerate(test.clips) if clip.num_frames >= T][:plan.humor_tto_windows]
    p = torch.stack([test.clip(i)[0][:T] for i, _ in clip_starts]).float()
    t = torch.stack([test.clip(i)[1][:T] for i, _ in clip_starts]).float()
    true = joint_positions(p, t, jm)
    obs = torch.cat([true + 0.04 * torch.randn(true.shape, generator=g), torch.zeros(*true.shape[:2], 2, 3)], 2)
    mask = torch.cat([torch.ones(true.shape[:3]), torch.zeros(*true.shape[:2], 2)], 2)
    init = fit_motion(body, load_prior("gmm"), obs, mask, torch.zeros(*true.shape[:2], 21, 3),
                      MotionFitConfig(optimize_betas=False, prior_weight=100.0))
    cfg = HumorFitConfig(stage_iterations=tuple(plan.humor_tto_iterations))
    timing = time_call(lambda: fit_humor(net, obs, mask, init.poses, init.transl, cfg), 0.0, 1, 1, 0)
    frames = len(clip_starts) * T
    rows.append({"task": "test-time optimisation", "setting": f"{len(clip_starts)} test windows x {T} frames, 4 cm joint "
                 f"noise, from a GMM-prior fit (not timed), segments of 5 frames, L-BFGS {cfg.stage_iterations}",
                 "weights": weights, "timing": timing.as_dict(), "seconds": timing.median_s,
                 "throughput": frames / timing.median_s, "unit": "frames/s"})
    print(f"  humor TTO {rows[-1]['throughput']:7.2f} frames/s", flush=True)
    return _section("humor", rows, started, load_before)


# --------------------------------------------------------------------------- SMPLify-X's collision term


def collision_calls(batch: int, device: str) -> tuple[dict[str, Callable[[], object]], int]:
    """The three timed calls of E_c on B posed open SMPL-X bodies (left hand through the torso), and the pair count.

    ``search``: :func:`humanlib.fitting.collision.intersecting_pairs` (broad and narrow phase);
    ``energy``: :func:`~humanlib.fitting.collision.collision_energy` on those pairs and its backward
    pass to the vertices; ``total``: both, as one evaluation of E_c with its gradient in a fit.
    """
    from humanlib.body import load_body_model, open_smplx_model_file
    from humanlib.bodybuild_smplx import SMPLX_JOINT_NAMES
    from humanlib.fitting import collision

    model = load_body_model(open_smplx_model_file(), layout="native", device=device)
    pose = 0.05 * torch.randn(batch, 55, 3, generator=torch.Generator().manual_seed(0))
    pose[:, SMPLX_JOINT_NAMES.index("left_shoulder"), 2] -= 1.3
    pose[:, SMPLX_JOINT_NAMES.index("left_elbow"), 2] -= 1.3
    with torch.no_grad():
        vertices = model(pose=pose.to(device)).vertices
    parts = collision.face_parts(model.weights, model.faces, collision.SMPLX_HEAD_PARTS)
    pairs = collision.intersecting_pairs(vertices, model.faces, parts)

    def search():
        return collision.intersecting_pairs(vertices, model.faces, parts)

    def energy(found=None):
        x = vertices.detach().requires_grad_(True)
        e = collision.collision_energy(x, model.faces, pairs if found is None else found)
        return torch.autograd.grad(e.sum(), x)[0]

    def total():
        return energy(search())

    return {"search": search, "energy": energy, "total": total}, len(pairs)


def bench_collision(plan: Plan, devices: tuple[str, ...]) -> dict:
    """E_c's time per evaluation on the open SMPL-X-layout mesh (13,718 vertices, 27,420 triangles)."""
    started, load_before = time.time(), load_average()
    rows = []
    for device in devices:
        for batch in plan.collision_batches:
            calls, pairs = collision_calls(batch, device)
            for phase, fn in calls.items():
                timing = time_call(fn, plan.forward_budget_s, plan.min_repeats, plan.max_repeats, plan.warmup, device)
                rows.append({"device": device, "batch": batch, "phase": phase, "pairs": pairs,
                             "timing": timing.as_dict(), "ms": 1e3 * timing.median_s,
                             "ms_per_body": 1e3 * timing.median_s / batch})
                print(f"  collision {device} B={batch:<3} {phase:<7} {rows[-1]['ms']:9.2f} ms  ({pairs} pairs)", flush=True)
    return _section("collision", rows, started, load_before)
