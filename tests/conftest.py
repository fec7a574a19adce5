"""Shared fixtures: seeded randomness, dtype/device parameters, repository paths."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
DTYPES = [torch.float32, torch.float64]


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same random state."""
    torch.manual_seed(0)
    np.random.seed(0)


@pytest.fixture(params=DEVICES)
def device(request):
    return torch.device(request.param)


@pytest.fixture(params=DTYPES, ids=["float32", "float64"])
def dtype(request):
    return request.param


@pytest.fixture
def repo() -> Path:
    return REPO


def in_ci() -> bool:
    """CI sets CI=true: checks that would skip on a laptop must run (and fail) there."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
