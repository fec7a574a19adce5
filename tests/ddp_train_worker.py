"""A tiny VPoser or Pose-NDF training, run by tests/priors/test_training.py under torchrun or alone.

``python tests/ddp_train_worker.py {vposer,posendf} OUT BATCH_SIZE`` trains on synthetic poses with
one torch thread and writes ``OUT/curve.json`` from rank 0 (the loss curve, full precision) and the
trainer's own files under ``OUT/run``.
"""

import json
import sys
from pathlib import Path

import torch

torch.set_num_threads(1)

from humanlib.priors import train_vposer as tv  # noqa: E402
from humanlib.priors.posendf import PoseNDFModelConfig  # noqa: E402
from humanlib.priors.posendf_data import PoseNDFDataConfig, make_distance_dataset  # noqa: E402
from humanlib.priors.posendf_train import PoseNDFTrainConfig, train_posendf  # noqa: E402
from humanlib.priors.vposer import VPoserConfig  # noqa: E402
from humanlib.rotations import random_quat  # noqa: E402


def manifold_poses(n: int, seed: int) -> torch.Tensor:
    basis = torch.randn(3, 63, generator=torch.Generator().manual_seed(123))
    s = torch.randn(n, 3, generator=torch.Generator().manual_seed(seed))
    return (0.3 * torch.tanh(s @ basis)).reshape(n, 21, 3)


def vposer_curve(out: Path, batch_size: int) -> list:
    cfg = tv.TrainConfig(epochs=3, batch_size=batch_size, lr=3e-3, model=VPoserConfig(hidden=32, latent_dim=8),
                         early_stop_patience=5)
    result = tv.train_vposer(manifold_poses(256, 0), manifold_poses(64, 1), cfg, out, progress=False)
    return [{"train": h.train, "val": h.val, "lr": h.lr} for h in result.history]


def posendf_curve(out: Path, batch_size: int) -> list:
    manifold = random_quat(60, 21, generator=torch.Generator().manual_seed(0))
    data = make_distance_dataset(manifold, PoseNDFDataConfig(num_noisy=200, num_clean=40))
    cfg = PoseNDFTrainConfig(model=PoseNDFModelConfig(feature_dim=4, encoder_hidden=8, df_hidden=(32, 32)),
                             steps=12, batch_size=batch_size, val_every=3, patience=5)
    result = train_posendf(data, data, cfg, out_dir=out, progress=False)
    return [{k: v for k, v in row.items() if k != "elapsed_s"} for row in result.history]


if __name__ == "__main__":
    kind, out, batch = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    curve = (vposer_curve if kind == "vposer" else posendf_curve)(out / "run", batch)
    import os

    if os.environ.get("RANK", "0") == "0":
        (out / "curve.json").write_text(json.dumps(curve))
