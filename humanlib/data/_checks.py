"""Input checks of the data package (numpy side), on top of :mod:`humanlib._validate`.

The data functions work on numpy arrays; they accept lists (converted here) and refuse torch
tensors with a pointer to ``.numpy()``, so a mistake ends in one message naming the argument.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from humanlib._validate import ShapeSpec, check_array, check_file, format_shape, shape_matches


def as_array(x: object, name: str, shape: ShapeSpec | None = None, *, finite: bool = True,
             nonempty: bool = False, integer: bool = False, dims: str = "TJ") -> np.ndarray:
    """``x`` as a float64 (or int64 when ``integer``) array after :func:`check_array`'s checks.

    ``dims`` names the free (``None``) dimensions of ``shape`` in messages, in order: frames
    ``T`` then joints ``J`` by default (``(T, 24, 3)``).

    Raises:
        TypeError: ``x`` is a torch tensor or not an array / list of numbers.
        ValueError: wrong shape, non-numeric, empty (when ``nonempty``) or non-finite values.
    """
    expected = "any shape"
    if shape is not None:
        letters = iter(dims)
        expected = format_shape([n if n is not None else "?" for n in shape]).replace("?", "{}")
        expected = expected.format(*[next(letters, "N") for n in shape if n is None])
    if isinstance(x, (list, tuple)):
        try:
            x = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a numpy array of shape {expected}; got a {type(x).__name__} that is "
                            "not a rectangular list of numbers") from None
    if not isinstance(x, np.ndarray):
        tip = " (use .numpy())" if type(x).__module__.startswith("torch") else ""
        kind = "a torch.Tensor" if tip else type(x).__name__
        raise TypeError(f"{name} must be a numpy array of shape {expected}; got {kind}{tip}")
    if shape is not None and not shape_matches(x.shape, shape):
        raise ValueError(f"{name} must have shape {expected}; got {x.shape}")
    check_array(x, name, None, finite=finite, nonempty=nonempty)
    if integer:
        if not np.issubdtype(x.dtype, np.integer):
            raise ValueError(f"{name} must hold integers (indices); got dtype {x.dtype}")
        return x.astype(np.int64, copy=False)
    if np.issubdtype(x.dtype, np.complexfloating):
        raise ValueError(f"{name} must be real; got dtype {x.dtype}")
    return x.astype(np.float64, copy=False)


def npz_problem(path: Path) -> str | None:
    """Why ``path`` cannot be an ``.npz`` archive judging by its first bytes, or None.

    ``np.load`` reads any file that is neither a zip nor a ``.npy`` as a pickle and then says
    to pass ``allow_pickle=True``: wrong advice for a damaged or foreign file.
    """
    with open(path, "rb") as fh:
        head = fh.read(6)
    if head.startswith(b"PK") or head == b"\x93NUMPY":
        return None
    return "not an .npz archive: it does not start with a zip header (damaged, or a file of another kind)"


def check_instance(x: object, cls: type, name: str, where: str) -> None:
    """Raise ``TypeError`` unless ``x`` is a ``cls`` (``where``: the function that makes one)."""
    if not isinstance(x, cls):
        article = "an" if cls.__name__[0] in "AEIOU" else "a"
        raise TypeError(f"{name} must be {article} {cls.__name__} (from {where}); got {type(x).__name__}")


def check_input_file(path: object, what: str, hint: str = "") -> Path:
    """:func:`check_file` for a path argument that may also be of the wrong type."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"the {what} path must be a str or pathlib.Path; got {type(path).__name__}")
    return check_file(path, what, hint)
