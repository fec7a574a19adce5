"""Input checks shared by every public ``humanlib`` function.

Each public function checks what a user hands it *before* any computation, so a mistake ends
in one message that names the argument, the expected shape / dtype / device and what was
received, instead of a broadcasting error deep inside torch or, worse, a silently wrong
result. The helpers here keep those messages uniform::

    check_tensor(pose, "pose", (None, 24, 3))          # (B, 24, 3), floating, finite
    check_tensor(q, "quaternions", (..., 4))            # any leading batch dims
    check_tensor(mask, "mask", (None, 24), floating=False, finite=False)
    check_same_device(model.v_template, pose=pose, betas=betas)

Shapes are tuples of ints (that size), ``None`` (any size, shown as ``B``, ``N``...) and at
most one leading ``...`` (any number of leading dimensions). A finiteness check costs one
host-device synchronisation; the training and fitting loops call it once per call, never
per step.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

ShapeSpec = Sequence[object]  # ints, None, and an optional leading ...

_LETTERS = "BNMKLTPQ"


def format_shape(shape: ShapeSpec) -> str:
    """``(None, 24, 3)`` -> ``"(B, 24, 3)"``; ``(..., 4)`` -> ``"(..., 4)"``."""
    names = iter(_LETTERS)
    parts = []
    for n in shape:
        if n is Ellipsis:
            parts.append("...")
        elif n is None:
            parts.append(next(names, "*"))
        else:
            parts.append(str(n))
    return "(" + ", ".join(parts) + (",)" if len(parts) == 1 else ")")


def shape_matches(actual: tuple[int, ...], shape: ShapeSpec) -> bool:
    """Whether ``actual`` fits the spec ``shape`` (see the module docstring)."""
    spec = list(shape)
    if spec and spec[0] is Ellipsis:
        tail = spec[1:]
        if len(actual) < len(tail):
            return False
        actual = actual[len(actual) - len(tail):]
        spec = tail
    if Ellipsis in spec:
        raise ValueError("'...' is allowed only as the first entry of a shape spec")
    return len(actual) == len(spec) and all(n is None or a == n for a, n in zip(actual, spec))


def check_tensor(
    x: object,
    name: str,
    shape: ShapeSpec | None = None,
    *,
    floating: bool = True,
    finite: bool = True,
    nonempty: bool = False,
    dtype: torch.dtype | None = None,
    hint: str = "",
) -> torch.Tensor:
    """Raise a clear error unless ``x`` is a tensor of the expected kind; return it.

    Args:
        x: the user's value.
        name: the argument's name, as the user wrote it (``"pose"``, ``"keypoints"``).
        shape: expected shape spec, or None for any shape.
        floating: require a floating-point dtype.
        finite: require every value finite (no NaN, no inf).
        nonempty: require at least one element (an empty batch is an error, not an empty result).
        dtype: require exactly this dtype (e.g. the model's).
        hint: a sentence appended to shape errors (what the dimensions mean).

    Raises:
        TypeError: ``x`` is not a ``torch.Tensor`` (a numpy array gets a pointer to ``torch.as_tensor``).
        ValueError: wrong shape, dtype, emptiness or non-finite values.
    """
    expected = format_shape(shape) if shape is not None else "any shape"
    if not isinstance(x, torch.Tensor):
        tip = " (convert it with torch.as_tensor)" if isinstance(x, (np.ndarray, list, tuple, float, int)) else ""
        raise TypeError(f"{name} must be a torch.Tensor of shape {expected}; got {type(x).__name__}{tip}")
    if shape is not None and not shape_matches(tuple(x.shape), shape):
        extra = f" {hint}" if hint else ""
        raise ValueError(f"{name} must have shape {expected}; got {tuple(x.shape)}.{extra}")
    if dtype is not None and x.dtype != dtype:
        raise ValueError(f"{name} must have dtype {dtype}; got {x.dtype} (cast it with .to({dtype}))")
    if floating and not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor; got dtype {x.dtype} (use .float())")
    if nonempty and x.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)}); give at least one element")
    if finite and x.is_floating_point() and x.device.type != "meta" and not bool(torch.isfinite(x).all()):
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"{name} contains {bad} non-finite value(s) (NaN or inf) in shape {tuple(x.shape)}")
    return x


def check_same_device(reference: torch.Tensor, what: str = "the model", /, **tensors: torch.Tensor | None) -> None:
    """Raise unless every given tensor lives on ``reference``'s device.

    ``what`` names the owner of ``reference`` in the message ("the model", "the prior");
    both are positional-only, so any argument name (even ``reference``) can be checked.
    """
    for name, x in tensors.items():
        if isinstance(x, torch.Tensor) and x.device != reference.device:
            raise ValueError(
                f"{name} is on {x.device} but {what} is on {reference.device}; "
                f"move one of them (x.to({str(reference.device)!r}) or model.to({str(x.device)!r}))"
            )


def check_positive(value: object, name: str, *, integer: bool = False, allow_zero: bool = False) -> None:
    """Raise unless ``value`` is a positive (or non-negative) finite number (an int if ``integer``)."""
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be {kind}; got {type(value).__name__}")
    if integer and not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite {kind.split()[-1]} {bound}; got {value!r}")


def check_file(path: str | Path, what: str, hint: str = "") -> Path:
    """Return ``path`` as a ``Path``; raise ``FileNotFoundError`` naming ``what`` if it is not a file."""
    p = Path(path).expanduser()
    if not p.is_file():
        state = "is a directory, not a file" if p.is_dir() else "does not exist"
        raise FileNotFoundError(f"{what} {p} {state}" + (f"; {hint}" if hint else ""))
    return p


def check_array(
    x: object, name: str, shape: ShapeSpec | None = None, *, finite: bool = True, nonempty: bool = False
) -> np.ndarray:
    """The numpy twin of :func:`check_tensor` for the data-preparation functions; returns the array."""
    expected = format_shape(shape) if shape is not None else "any shape"
    if isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a numpy array of shape {expected}; got a torch.Tensor (use .numpy())")
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of shape {expected}; got {type(x).__name__}")
    if shape is not None and not shape_matches(x.shape, shape):
        raise ValueError(f"{name} must have shape {expected}; got {x.shape}")
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"{name} must be numeric; got dtype {x.dtype}")
    if nonempty and x.size == 0:
        raise ValueError(f"{name} is empty (shape {x.shape}); give at least one element")
    if finite and np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        raise ValueError(f"{name} contains {int((~np.isfinite(x)).sum())} non-finite value(s) (NaN or inf)")
    return x


def resolve_device(device: object, name: str = "device", *, available: bool = True,
                   allow_meta: bool = True) -> torch.device:
    """``device`` as a ``torch.device``, with a clear error for anything humanlib cannot run on.

    Args:
        device: a ``torch.device`` or a string (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``, ``"meta"``).
        name: the argument's name, for messages.
        available: also require that this machine has it (CUDA / the GPU index / MPS) and that
            it is a kind humanlib runs on (cpu, cuda, mps, meta); False only parses the name
            (a config may name a device of the machine that will run it).
        allow_meta: accept the meta device (shapes only, no values: fine for checks, not for a fit).

    Raises:
        TypeError: ``device`` is neither a str nor a ``torch.device``.
        ValueError: torch does not know the name, or (``available``) this machine lacks it,
            or (not ``allow_meta``) it is the meta device.
    """
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"{name} must be a str or torch.device such as 'cpu' or 'cuda'; got {type(device).__name__}")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(f"{name} {device!r} is not a torch device (use 'cpu', 'cuda' or 'cuda:0')") from None
    if dev.type == "meta" and not allow_meta:
        raise ValueError(f"{name} 'meta' holds no values and cannot run this; use 'cpu' or 'cuda'")
    if not available:
        return dev
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name} {device!r} was requested but torch sees no GPU; use 'cpu'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"{name} {device!r} was requested but torch sees {torch.cuda.device_count()} GPU(s)")
    elif dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(f"{name} {device!r} was requested but this torch has no MPS backend here; use 'cpu'")
    elif dev.type not in ("cpu", "meta"):
        raise ValueError(f"{name} {device!r}: humanlib runs on 'cpu', 'cuda' or 'mps'")
    return dev


def check_float_dtype(dtype: object, name: str = "dtype") -> torch.dtype:
    """Raise unless ``dtype`` is torch.float32 or torch.float64 (the dtypes the course computes in)."""
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"{name} must be torch.float32 or torch.float64; got {dtype!r}")
    return dtype


def check_output_file(path: object, name: str, what: str, *, example: str = "", create_parent: bool = False) -> Path:
    """``path`` as a ``Path`` if ``what`` can be written there; a clear error otherwise.

    Args:
        path: the user's value.
        name: the argument's name (``"path"``, ``"asf_path"``).
        what: what is written, for messages (``"the GMM"``, ``"the BVH file"``).
        example: a file name suggested when ``path`` is a folder (``"gmm.npz"``).
        create_parent: create missing parent folders instead of refusing them.

    Raises:
        TypeError: ``path`` is not a str or Path.
        IsADirectoryError: ``path`` is a folder.
        FileNotFoundError: its folder does not exist (and ``create_parent`` is False).
        NotADirectoryError: a parent of ``path`` is a file.
    """
    if not isinstance(path, (str, Path)):
        raise TypeError(f"{name} must be a str or Path; got {type(path).__name__}")
    p = Path(path).expanduser()
    if p.is_dir():
        tip = f" such as {p / example}" if example else ""
        raise IsADirectoryError(f"cannot write {what} to {p}: it is a folder; give a file name{tip}")
    if create_parent:
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise NotADirectoryError(f"cannot write {what} to {p}: a folder above it is a file") from None
    elif not p.parent.is_dir():
        raise FileNotFoundError(f"cannot write {what} to {p}: folder {p.parent} does not exist (create it first)")
    return p


def check_generator(generator: object, *, optional: bool = True, device: object = None, why: str = "") -> None:
    """Raise unless ``generator`` is a ``torch.Generator`` (or None when ``optional``) on ``device``'s type.

    Args:
        generator: the user's value.
        optional: None is allowed (the caller draws from torch's global generator).
        device: the device the random numbers are drawn on (None: any).
        why: why a CPU generator is required, for the message (``"sampling runs on the CPU"``).

    Raises:
        TypeError: not a ``torch.Generator`` (nor None when ``optional``).
        ValueError: a generator on another kind of device than ``device``.
    """
    if generator is None and optional:
        return
    if not isinstance(generator, torch.Generator):
        hint = " or None" if optional else " (e.g. torch.Generator().manual_seed(0))"
        raise TypeError(f"generator must be a torch.Generator{hint}; got {type(generator).__name__}")
    if device is not None and generator.device.type != torch.device(device).type:
        if why:
            raise ValueError(f"generator must be a {str(device).upper()} torch.Generator ({why}); got one on {generator.device}")
        raise ValueError(f"generator is on {generator.device} but the noise is drawn on {device}; "
                         f"create it with torch.Generator(device={str(device)!r})")
