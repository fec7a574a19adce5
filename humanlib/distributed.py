"""Joining ``torchrun``'s process group: the one place that starts torch.distributed.

Used by the dataset fit (:mod:`humanlib.fitting.dataset`) and the prior trainings
(:mod:`humanlib.priors.training`).
"""

from __future__ import annotations

import os

import torch


def distributed_context(device: str) -> tuple[int, int, str]:
    """``(rank, world_size, device)`` of this worker; joins torchrun's process group when there is one.

    Under ``torchrun`` (``WORLD_SIZE`` > 1 in the environment) the process group is initialised
    with ``nccl`` on CUDA and ``gloo`` on the CPU, and a CUDA worker takes the GPU
    ``LOCAL_RANK``. A plain run is rank 0 of 1.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, device
    import torch.distributed as dist

    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device.startswith("cuda"):
        device = f"cuda:{local}"
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
    return dist.get_rank(), dist.get_world_size(), device


__all__ = ["distributed_context"]
