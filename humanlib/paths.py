"""Where ``humanlib`` finds its files: one place, environment variables with defaults.

* ``HUMANLIB_CACHE_DIR``: derived files written at run time (default ``~/.cache/humanlib``).
* ``HUMANLIB_BODY_MODEL``: a user's SMPL / SMPL-X model file (``.pkl`` or ``.npz``); when set,
  every chapter uses it instead of the open body model.
* ``HUMANLIB_AMASS_DIR``: a user's AMASS folder; when set, the data chapters use it instead of
  the open motion corpus.
* ``HUMANLIB_PRIORS_DIR``: a folder of the user's own trained priors (see :data:`PRIOR_FILES`);
  when set, every chapter loads them instead of the committed open priors.
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
    """Folder for files derived at run time; created on first use.

    ``HUMANLIB_CACHE_DIR`` set to an empty string counts as unset (it would otherwise mean the
    current directory).

    Raises:
        NotADirectoryError: ``HUMANLIB_CACHE_DIR`` (or the default) names an existing file.
        PermissionError: the folder cannot be created there.
    """
    value = os.environ.get("HUMANLIB_CACHE_DIR", "").strip()
    path = Path(value).expanduser() if value else Path.home() / ".cache" / "humanlib"
    source = "HUMANLIB_CACHE_DIR" if value else "the default cache folder"
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(
            f"cache folder {path} ({source}) is a file, not a folder; point HUMANLIB_CACHE_DIR at a folder"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (PermissionError, NotADirectoryError, FileExistsError) as error:
        raise type(error)(
            f"cannot create the cache folder {path} ({source}): {error.strerror or error}; "
            "point HUMANLIB_CACHE_DIR at a writable folder"
        ) from None
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
    """Path of a committed asset, with a clear error when the file is missing.

    Args:
        name: the file's path relative to ``humanlib/assets`` (``"priors/gmm_open_8.npz"``).

    Raises:
        TypeError: ``name`` is not a string (or path).
        ValueError: ``name`` is empty, absolute or climbs out of the assets folder (``..``).
        FileNotFoundError: no such file (the message says how to restore it), or it is a folder.
    """
    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(f"asset name must be a str relative to {ASSETS_DIR}; got {type(name).__name__}")
    relative = Path(name)
    if not str(name).strip() or relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"asset name must be a non-empty path inside {ASSETS_DIR} (no '..'); got {name!r}")
    path = ASSETS_DIR / relative
    if path.is_dir():
        raise FileNotFoundError(f"humanlib asset {name!r} is a folder ({path}); name a file inside it")
    if not path.exists():
        raise FileNotFoundError(
            f"humanlib asset {name!r} is missing (looked in {ASSETS_DIR}). "
            "Reinstall the course (pip install -e .) from a full checkout, or rebuild the asset "
            "with the `humanlib` command documented in the README."
        )
    return path


#: Where a ``HUMANLIB_PRIORS_DIR`` folder keeps each prior: the file each training command writes
#: when its ``--out`` is that folder's entry (``train-gmm --out DIR/gmm.npz``,
#: ``train-vposer --out DIR/vposer``, ``train-posendf --out DIR/posendf``).
PRIOR_FILES: dict[str, str] = {"gmm": "gmm.npz", "vposer": "vposer/best.pt", "posendf": "posendf/posendf.pt"}


def user_prior_file(kind: str) -> Path | None:
    """The user's own trained prior of ``kind`` under ``HUMANLIB_PRIORS_DIR``; None when unset.

    A researcher who retrains the priors on AMASS sets ``HUMANLIB_PRIORS_DIR`` and every chapter
    loads those priors instead of the committed open ones.

    Args:
        kind: ``"gmm"``, ``"vposer"`` or ``"posendf"``.

    Raises:
        ValueError: unknown ``kind``.
        FileNotFoundError: the variable is set but the folder lacks this prior (the message gives
            the command that writes it); never a silent fall-back to the open prior.
    """
    if kind not in PRIOR_FILES:
        raise ValueError(f"unknown prior kind {kind!r}; expected one of {sorted(PRIOR_FILES)}")
    value = os.environ.get("HUMANLIB_PRIORS_DIR", "").strip()
    if not value:
        return None
    path = Path(value).expanduser() / PRIOR_FILES[kind]
    if not path.is_file():
        out = path if kind == "gmm" else path.parent  # train-gmm writes a file, the others a folder
        raise FileNotFoundError(
            f"HUMANLIB_PRIORS_DIR is set but {path} does not exist; train it with "
            f"`humanlib train-{kind} --out {out}`, or unset HUMANLIB_PRIORS_DIR to use the committed open {kind}"
        )
    return path


# --------------------------------------------------------------------------- checks of a user's paths


def input_file(path: str | os.PathLike, option: str, hint: str = "") -> Path:
    """``path`` as a ``Path``; ``FileNotFoundError`` naming ``option`` unless it is an existing file."""
    p = Path(path).expanduser()
    if not p.is_file():
        state = "is a folder, not a file" if p.is_dir() else "does not exist"
        raise FileNotFoundError(f"{option} {p} {state}" + (f"; {hint}" if hint else ""))
    return p


def input_folder(path: str | os.PathLike, option: str, hint: str = "") -> Path:
    """``path`` as a ``Path``; ``FileNotFoundError`` / ``NotADirectoryError`` unless it is a folder."""
    p = Path(path).expanduser()
    if not p.is_dir():
        if p.exists():
            raise NotADirectoryError(f"{option} {p} is a file, not a folder" + (f"; {hint}" if hint else ""))
        raise FileNotFoundError(f"{option} {p} does not exist" + (f"; {hint}" if hint else ""))
    return p


def _check_parents(p: Path, option: str) -> None:
    for parent in p.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(f"{option} {p}: {parent} is a file, not a folder")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise PermissionError(f"{option} {p}: cannot write into {parent}")
            return


def output_folder(path: str | os.PathLike, option: str = "--out") -> Path:
    """``path`` as a ``Path`` if a command can write files into it (created later when missing).

    Raises:
        NotADirectoryError: ``path`` (or a folder above it) is a file.
        PermissionError: the folder (or its nearest existing parent) is not writable.
    """
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise NotADirectoryError(f"{option} {p} is a file, not a folder; give a folder (created when missing)")
    if p.is_dir():
        if not os.access(p, os.W_OK | os.X_OK):
            raise PermissionError(f"{option} {p}: cannot write into this folder")
        return p
    _check_parents(p, option)
    return p


def output_file(path: str | os.PathLike, option: str = "--out", example: str = "") -> Path:
    """``path`` as a ``Path`` if a command can write that file (its folder is created when missing).

    Raises:
        IsADirectoryError: ``path`` is a folder.
        NotADirectoryError: a folder above ``path`` is a file.
        PermissionError: the file's folder is not writable.
    """
    p = Path(path).expanduser()
    if p.is_dir():
        tip = f", e.g. {p / example}" if example else ""
        raise IsADirectoryError(f"{option} {p} is a folder; give the path of the file to write{tip}")
    _check_parents(p, option)
    return p
