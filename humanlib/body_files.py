"""Body model files: reading a user's SMPL / SMPL-X ``.pkl`` / ``.npz``, and the course's open models.

The open models are stored compactly in ``humanlib/assets`` and expanded to SMPL's exact pickle
layout in the cache on first use. :mod:`humanlib.body` re-exports every name here, and
:func:`humanlib.body.load_body_model` reads the files into a :class:`humanlib.body.BodyModel`.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np

from humanlib import paths
from humanlib.body_layouts import smplx_to_smplh


#: Where a registered user downloads SMPL (the files may not be redistributed).
SMPL_URL = "https://smpl.is.tue.mpg.de"
#: The committed compact open body model (expanded by :func:`humanlib.body.open_body_model_file`).
OPEN_MODEL_ASSET = "open_body_model.npz"
#: The committed compact open SMPL-X-layout model (expanded by :func:`~humanlib.body_files.open_smplx_model_file`).
OPEN_SMPLX_ASSET = "open_body_model_x.npz"
#: Keys every SMPL-layout file must hold.
REQUIRED_KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f")
#: smplx's SMPL class accepts more than 10 betas only when ``shapedirs`` has this many columns.
SMPLX_SHAPE_SPACE_DIM = 300



# --------------------------------------------------------------------------- files


class _NoChumpyUnpickler(pickle.Unpickler):
    """Unpickler that refuses chumpy objects (SMPL's original files) with a clear message."""

    def find_class(self, module: str, name: str):
        if module.split(".")[0] == "chumpy":
            raise ValueError(
                f"{self.path} holds chumpy objects ({module}.{name}); humanlib reads chumpy-free "
                "files only. Convert it once in an environment that has chumpy: load the pickle, "
                "turn every array with np.array(value), and pickle the dict again (or use the "
                "SMPL website's 'removed chumpy objects' download)."
            )
        return super().find_class(module, name)


def _missing_file_message(path: Path) -> str:
    return (
        f"body model file {path} does not exist. Expected an SMPL-layout model file "
        f"(.pkl or .npz with keys {', '.join(REQUIRED_KEYS)}). SMPL's files need a free "
        f"registration at {SMPL_URL} (download 'SMPL for Python', chumpy-free version); "
        "point HUMANLIB_BODY_MODEL at the file, or unset it to use the course's open body model."
    )


def read_model_file(path: str | Path) -> dict[str, np.ndarray]:
    """Read an SMPL-layout model file (``.pkl`` without chumpy, or ``.npz``) into numpy arrays.

    Sparse matrices (SMPL stores ``J_regressor`` as scipy sparse) are made dense.

    Raises:
        FileNotFoundError: the file does not exist (the message says where SMPL is obtained).
        ValueError: the file is not an SMPL-layout model (missing keys, chumpy objects, a
            truncated or corrupt file, ...).
        TypeError: ``path`` is not a path.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or Path of a model file; got {type(path).__name__}")
    path = Path(path).expanduser()
    if path.is_dir():
        raise FileNotFoundError(f"body model path {path} is a folder; give the model file itself. "
                                + _layout_message(path, []))
    if not path.is_file():
        raise FileNotFoundError(_missing_file_message(path))
    suffix = path.suffix.lower()
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as npz:
                missing = [k for k in REQUIRED_KEYS if k not in npz.files]
                if missing:
                    raise ValueError(_layout_message(path, missing))
                keep = [k for k in npz.files if k in REQUIRED_KEYS or k == "num_shape_components"]
                arrays = {k: npz[k] for k in keep}
        except (zipfile.BadZipFile, EOFError, OSError) as error:
            raise ValueError(f"{path} is not a readable .npz file (truncated or corrupt: {error}); "
                             "download it again. " + _layout_message(path, [])) from None
        except ValueError as error:
            if "lacks the keys" in str(error):
                raise
            raise ValueError(f"{path} is not a readable .npz file ({error}); download it again. "
                             + _layout_message(path, [])) from None
    elif suffix == ".pkl":
        with open(path, "rb") as handle:
            unpickler = _NoChumpyUnpickler(handle, encoding="latin1")
            unpickler.path = path
            try:
                data = unpickler.load()
            except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError) as error:
                raise ValueError(f"{path} is not a readable pickle ({error}); {_layout_message(path, [])}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path} holds a {type(data).__name__}, expected a dict. " + _layout_message(path, []))
        missing = [k for k in REQUIRED_KEYS if k not in data]
        if missing:
            raise ValueError(_layout_message(path, missing))
        arrays = {}
        for key, value in data.items():
            if hasattr(value, "toarray"):  # scipy.sparse
                value = value.toarray()
            if key in REQUIRED_KEYS or key == "num_shape_components":
                arrays[key] = np.asarray(value)
            elif key == "vertex_ids":
                arrays[key] = value
    else:
        raise ValueError(f"{path}: unknown model file type {suffix!r}; expected .pkl or .npz. {_layout_message(path, [])}")
    validate_model_arrays(arrays, str(path))
    return arrays


def _layout_message(path: Path, missing: list[str]) -> str:
    what = f"{path} lacks the keys {', '.join(missing)}. " if missing else ""
    return (
        f"{what}An SMPL-layout model file holds {', '.join(REQUIRED_KEYS)} "
        f"(SMPL / SMPL-X from {SMPL_URL}, or the course's open body model)."
    )


def validate_model_arrays(arrays: dict[str, np.ndarray], source: str = "model") -> None:
    """Check the shapes of an SMPL-layout array dict; ValueError naming the offending array."""
    if not isinstance(arrays, dict):
        raise TypeError(f"{source}: arrays must be a dict of numpy arrays (keys {', '.join(REQUIRED_KEYS)}); "
                        f"got {type(arrays).__name__}")
    missing = [k for k in REQUIRED_KEYS if k not in arrays]
    if missing:
        raise ValueError(f"{source}: missing keys {missing}; expected {list(REQUIRED_KEYS)}")
    v = np.asarray(arrays["v_template"])
    if v.ndim != 2 or v.shape[1] != 3:
        raise ValueError(f"{source}: v_template must be (V, 3), got {v.shape}")
    V = v.shape[0]
    kin = np.asarray(arrays["kintree_table"])
    if kin.ndim != 2 or kin.shape[0] != 2:
        raise ValueError(f"{source}: kintree_table must be (2, J), got {kin.shape}")
    J = kin.shape[1]
    checks = {
        "shapedirs": (lambda s: len(s) == 3 and s[:2] == (V, 3), f"(V={V}, 3, K)"),
        "posedirs": (lambda s: len(s) == 3 and s[:2] == (V, 3), f"(V={V}, 3, 9*(J-1)={9 * (J - 1)})"),
        "J_regressor": (lambda s: s == (J, V), f"(J={J}, V={V})"),
        "weights": (lambda s: s == (V, J), f"(V={V}, J={J})"),
        "f": (lambda s: len(s) == 2 and s[1] == 3, "(F, 3)"),
    }
    for key, (ok, expected) in checks.items():
        shape = tuple(np.shape(arrays[key]))
        if not ok(shape):
            raise ValueError(f"{source}: {key} must have shape {expected}, got {shape}")
    parents = kin[0].astype(np.int64)
    for k in range(1, J):
        if not 0 <= parents[k] < k:
            raise ValueError(f"{source}: kintree_table parent of joint {k} is {parents[k]}; parents must precede children")


# --------------------------------------------------------------------------- the open model


def expand_open_model(compact: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Expand the compact open-model arrays to SMPL's file layout (plain numpy, float32).

    The compact file (written by ``humanlib.bodybuild.write_compact_model``) stores
    ``shapedirs`` in float16, ``posedirs`` sparsely (per vertex, only the pose features of
    the joints that move it), ``weights`` and ``J_regressor`` as sparse triplets. Here they
    are made dense again; ``shapedirs`` is zero-padded to 300 columns so that ``smplx.SMPL``
    accepts more than 10 betas. A 55-joint compact file (the open SMPL-X layout,
    :mod:`humanlib.bodybuild_smplx`) also gets 100 zero expression columns after the 300 shape
    columns, identity ``hands_componentsl/r``, zero ``hands_meanl/r`` and its landmark arrays.
    """
    V = compact["v_template"].shape[0]
    J = compact["kintree_table"].shape[1]
    num_shape = compact["shapedirs"].shape[-1]
    shapedirs = np.zeros((V, 3, max(SMPLX_SHAPE_SPACE_DIM, num_shape)), np.float32)
    shapedirs[:, :, :num_shape] = compact["shapedirs"].astype(np.float32)
    # posedirs: for vertex v, support_mask[v] has a bit per joint whose 9 features move it;
    # values hold (9 features x 3 coordinates) per supported joint, vertex after vertex.
    posedirs = np.zeros((V, 3, 9 * (J - 1)), np.float32)
    mask = compact["posedirs_support"].astype(np.int64)
    bits = (mask[:, None] >> np.arange(1, J)[None]) & 1  # (V, J-1), joint 0 has no feature
    vertex, joint = np.nonzero(bits)
    values = compact["posedirs_values"].astype(np.float32).reshape(-1, 9, 3)
    if len(values) != len(vertex):
        raise ValueError(f"open model: {len(values)} posedirs blocks for {len(vertex)} supported joints")
    columns = 9 * joint[:, None] + np.arange(9)[None]  # (n, 9)
    posedirs[vertex[:, None], :, columns] = values  # values (n, 9, 3) -> (V, 3, P)
    weights = np.zeros((V, J), np.float32)
    weights[compact["weights_vertex"], compact["weights_joint"]] = compact["weights_value"]
    J_regressor = np.zeros((J, V), np.float32)
    J_regressor[compact["J_regressor_joint"], compact["J_regressor_vertex"]] = compact["J_regressor_value"]
    vertex_ids = {str(k): int(v) for k, v in zip(compact["vertex_id_names"], compact["vertex_id_values"])}
    extra = {}
    if J == 55:  # the open SMPL-X layout (humanlib.bodybuild_smplx): 300 shape + 100 (zero) expression columns
        shapedirs = np.concatenate([shapedirs[:, :, :SMPLX_SHAPE_SPACE_DIM],
                                    np.zeros((V, 3, 100), np.float32)], axis=2)
        extra = {
            "hands_componentsl": np.eye(45, dtype=np.float32), "hands_componentsr": np.eye(45, dtype=np.float32),
            "hands_meanl": np.zeros(45, np.float32), "hands_meanr": np.zeros(45, np.float32),
            "lmk_faces_idx": compact["lmk_faces_idx"].astype(np.int64),
            "lmk_bary_coords": compact["lmk_bary_coords"].astype(np.float32),
        }
    return {**extra,
        "v_template": compact["v_template"].astype(np.float32),
        "shapedirs": shapedirs,
        "posedirs": posedirs,
        "J_regressor": J_regressor,
        "weights": weights,
        "kintree_table": compact["kintree_table"].astype(np.int64),
        "f": compact["f"].astype(np.int64),
        "vertex_ids": vertex_ids,
        "num_shape_components": np.int64(num_shape),
    }


def open_body_model_file() -> Path:
    """The open body model in SMPL's pickle layout, expanded into the cache on first use.

    The pickle holds plain numpy arrays and loads with ``smplx.SMPL(model_path=...)``;
    its name carries a hash of the committed compact file, so a rebuilt asset is re-expanded.
    """
    return _expanded(OPEN_MODEL_ASSET, "open_body_model")


def open_smplx_model_file(gender: str = "neutral") -> Path:
    """The open SMPL-X-layout model (55 joints) as a pickle in SMPL-X's layout, expanded on first use.

    It loads with ``smplx.SMPLX(model_path=...)`` and with
    ``load_body_model(open_smplx_model_file(), layout="native")``; see :mod:`humanlib.bodybuild_smplx`
    for what it has and lacks (fixed jaw, zero expressions, identity hand components).

    Args:
        gender: ``"neutral"`` (anny's whole gender range), ``"male"`` or ``"female"`` (each built
            with its own shape space from one half of anny's gender phenotype).

    Raises:
        ValueError: another ``gender``.
    """
    suffix = _gender_suffix(gender)
    return _expanded(f"open_body_model_x{suffix}.npz", f"open_body_model_x{suffix}")


def open_smplh_model_file(gender: str = "neutral") -> Path:
    """The open SMPL-H-layout model (52 joints: body and fingers), expanded on first use.

    It is the open SMPL-X-layout model (:func:`~humanlib.body_files.open_smplx_model_file`) without the jaw and the
    eyes (:func:`humanlib.body_layouts.smplx_to_smplh`), with 16 shape components as SMPL+H has;
    it loads with ``smplx.SMPLH(model_path=...)`` and with ``load_body_model(..., layout="native")``.

    Args:
        gender: ``"neutral"``, ``"male"`` or ``"female"``.

    Raises:
        ValueError: another ``gender``.
    """
    suffix = _gender_suffix(gender)
    return _expanded(f"open_body_model_x{suffix}.npz", f"open_body_model_h{suffix}", to_smplh=True)


def _gender_suffix(gender: str) -> str:
    """The file-name suffix of the open SMPL-X-layout assets: none for neutral, ``_male``, ``_female``."""
    if gender not in ("neutral", "male", "female"):
        raise ValueError(f"gender must be 'neutral', 'male' or 'female'; got {gender!r}")
    return "" if gender == "neutral" else f"_{gender}"


def _expanded(asset: str, stem: str, to_smplh: bool = False) -> Path:
    compact_path = paths.asset(asset)
    digest = hashlib.sha256(compact_path.read_bytes()).hexdigest()[:12]
    target = paths.cache_dir() / f"{stem}_{digest}.pkl"
    if not target.exists():
        with np.load(compact_path, allow_pickle=False) as npz:
            arrays = expand_open_model({k: npz[k] for k in npz.files})
        if to_smplh:
            arrays = smplx_to_smplh(arrays, source=asset)
        buffer = io.BytesIO()
        pickle.dump(arrays, buffer, protocol=4)
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")  # one per process
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(target)  # atomic: a concurrent reader never sees half a file
    return target


def open_body_model_vertex_ids() -> dict[str, int]:
    """Vertex ids of smplx's extra keypoints (nose, eyes, ears, toes, heels, fingertips) on the open mesh."""
    with np.load(paths.asset(OPEN_MODEL_ASSET), allow_pickle=False) as npz:
        return {str(k): int(v) for k, v in zip(npz["vertex_id_names"], npz["vertex_id_values"])}
