"""Where ``humanlib`` finds its files: one place, environment variables with defaults.

* ``HUMANLIB_CACHE_DIR``: derived files written at run time (default ``~/.cache/humanlib``).
* ``HUMANLIB_BODY_MODEL``: a user's SMPL / SMPL-X model file (``.pkl`` or ``.npz``); when set,
  every chapter uses it instead of the open body model.
* ``HUMANLIB_AMASS_DIR``: a user's AMASS folder; when set, the data chapters use it instead of
  the open motion corpus.
* ``HUMANLIB_RAW_DATA``: the raw open mocap archives (``../shared/data`` next to a course
  checkout); only needed to *rebuild* the open corpus.

Committed assets (the open body model, the open corpus, trained priors) ship inside
the package under ``humanlib/assets`` so that ``pip install`` carries them.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"
REPO_DIR = PACKAGE_DIR.parent  # meaningful only in a source checkout


def cache_dir() -> Path:
    """Folder for files derived at run time; created on first use."""
    path = Path(os.environ.get("HUMANLIB_CACHE_DIR", Path.home() / ".cache" / "humanlib")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_body_model() -> Path | None:
    """The user's SMPL/SMPL-X file named by ``HUMANLIB_BODY_MODEL``, or ``None`` when unset."""
    value = os.environ.get("HUMANLIB_BODY_MODEL", "").strip()
    return Path(value).expanduser() if value else None


def user_amass_dir() -> Path | None:
    """The user's AMASS folder named by ``HUMANLIB_AMASS_DIR``, or ``None`` when unset."""
    value = os.environ.get("HUMANLIB_AMASS_DIR", "").strip()
    return Path(value).expanduser() if value else None


def raw_data_dir() -> Path | None:
    """Folder holding the raw open mocap archives, or ``None`` when it cannot be found.

    ``HUMANLIB_RAW_DATA`` wins; otherwise ``../shared/data`` next to a source checkout.
    """
    value = os.environ.get("HUMANLIB_RAW_DATA", "").strip()
    if value:
        return Path(value).expanduser()
    candidate = REPO_DIR.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


def asset(name: str) -> Path:
    """Path of a committed asset, with a clear error when the file is missing."""
    path = ASSETS_DIR / name
    if not path.exists():
        raise FileNotFoundError(
            f"humanlib asset {name!r} is missing (looked in {ASSETS_DIR}). "
            "Reinstall the course (pip install -e .) from a full checkout, or rebuild the asset "
            "with the `humanlib` command documented in the README."
        )
    return path
