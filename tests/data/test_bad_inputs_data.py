"""Bad inputs to humanlib.data (mocap parsers, AMASS loader, corpus, builder, retargeting,
synthetic writers, figures): every public name, a clear error or a defined result.

Files are written by the tests themselves, in the real layouts (a BVH / ASF / AMC written by
``humanlib.data.synthetic``, AMASS-style ``.npz`` files, a small corpus folder), then broken:
truncated, garbage bytes, wrong channel counts, empty motions, files of the other format.
"""

from __future__ import annotations

import functools
import io
import json
import re
import tarfile
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch
from bad_inputs import case_id, raises, returns, run_case
from bad_inputs import with_env as _env
from hypothesis import given, settings
from hypothesis import strategies as st

from humanlib import paths
from humanlib.data import (
    amass,
    asf_amc,
    build,
    bvh,
    corpus,
    figures,
    readme,
    retarget,
    sources,
    synthetic,
)
from humanlib.data.amass import AmassFormatError
from humanlib.data.asf_amc import AsfAmcFormatError
from humanlib.data.bvh import BvhFormatError
from humanlib.data.corpus import CorpusError
from humanlib.skeleton import NUM_JOINTS, joint

NAN, INF = float("nan"), float("inf")
J = retarget.placeholder_rest_joints()
REBUILD = r"rebuild it with `humanlib build-corpus`"


# --------------------------------------------------------------------------- helpers


def _tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="humanlib_bad_data_"))


def _file(name: str, content: str | bytes) -> Path:
    path = _tmp() / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def _motion(T: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A small SMPL motion, at rest where the Bandai-Namco rig has no joint."""
    rng = np.random.default_rng(seed)
    poses = rng.normal(0.0, 0.3, (T, NUM_JOINTS, 3))
    poses[:1] = 0.0
    for name in ("spine2", "left_hand", "right_hand"):
        poses[:, joint(name)] = 0.0
    return poses, rng.normal(0.0, 0.2, (T, 3))


GARBAGE = bytes(range(256)) * 8


@functools.cache
def _bvh_text() -> str:
    path = _tmp() / "ok.bvh"
    synthetic.write_smpl_as_bvh(path, *_motion(), J)
    return path.read_text()


@functools.cache
def _asf_amc_text() -> tuple[str, str]:
    d = _tmp()
    synthetic.write_smpl_as_asf_amc(d / "s.asf", d / "s.amc", *_motion(), J)
    return (d / "s.asf").read_text(), (d / "s.amc").read_text()


def _bvh(text: str | None = None, name: str = "m.bvh") -> Path:
    return _file(name, _bvh_text() if text is None else text)


def _bvh_lines() -> list[str]:
    return _bvh_text().splitlines()


def _bvh_edit(name: str, edit) -> Path:
    """A BVH whose lines went through ``edit(lines) -> lines``."""
    return _bvh("\n".join(edit(_bvh_lines())) + "\n", name)


def _drop_first_end_site_brace(lines: list[str]) -> list[str]:
    i = next(k for k, x in enumerate(lines) if x.strip() == "End Site")
    return lines[:i + 1] + lines[i + 2:]


def _motion_line() -> int:
    """0-based index of the MOTION line of the valid BVH."""
    return _bvh_lines().index("MOTION")


def _replace_line(lines: list[str], i: int, text: str) -> list[str]:
    lines = list(lines)
    lines[i] = text
    return lines


@functools.cache
def _read_bvh() -> bvh.BvhMotion:
    return bvh.read_bvh(_bvh())


def _asf(text: str | None = None, name: str = "s.asf") -> Path:
    return _file(name, _asf_amc_text()[0] if text is None else text)


def _amc(text: str | None = None, name: str = "s.amc") -> Path:
    return _file(name, _asf_amc_text()[1] if text is None else text)


@functools.cache
def _skeleton() -> asf_amc.AsfSkeleton:
    return asf_amc.read_asf(_asf())


@functools.cache
def _amc_motion() -> asf_amc.AmcMotion:
    return asf_amc.read_amc(_amc(), _skeleton())


def _amc_lines() -> list[str]:
    return _asf_amc_text()[1].splitlines()


def _amc_edit(name: str, edit) -> Path:
    return _amc("\n".join(edit(_amc_lines())) + "\n", name)


def _asf_edit(name: str, old: str, new: str, count: int = 1) -> Path:
    text = _asf_amc_text()[0]
    assert old in text, old
    return _asf(text.replace(old, new, count), name)


#: A small ASF that is not CMU's skeleton (one bone).
TINY_ASF = """:version 1.10
:units
  length 0.45
  angle deg
:root
   order TX TY TZ RX RY RZ
   axis XYZ
:bonedata
  begin
     id 1
     name arm
     direction 1 0 0
     length 5
     axis 0 0 0 XYZ
    dof rx ry rz
  end
:hierarchy
  begin
    root arm
  end
"""

#: A small BVH that is not the Bandai-Namco rig.
TINY_BVH = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  End Site
  {
    OFFSET 0 10 0
  }
}
MOTION
Frames: 2
Frame Time: 0.033333
0 0 0 0 0 0
0 0 0 10 0 0
"""


def _amass(name: str = "m.npz", width: int = 156, T: int = 4, rate_key: str | None = "mocap_framerate",
           fps=120.0, drop: tuple[str, ...] = (), **override) -> Path:
    """An AMASS-style ``.npz`` (optionally without some keys, or with keys replaced)."""
    rng = np.random.default_rng(0)
    arrays = {"poses": rng.normal(0, 0.3, (T, width)), "trans": rng.normal(0, 1, (T, 3)),
              "betas": np.zeros(16), "gender": np.array("neutral")}
    if rate_key is not None:
        arrays[rate_key] = np.asarray(fps)
    arrays.update(override)
    for key in drop:
        arrays.pop(key)
    path = _tmp() / name
    np.savez(path, **arrays)
    return path


def _amass_dir(files: dict[str, bytes | None]) -> Path:
    """An AMASS folder: relative path -> content (None: a valid motion file)."""
    root = _tmp() / "amass"
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.write_bytes(_amass().read_bytes())
        else:
            path.write_bytes(content)
    return root


CLIP = {"name": "c0", "source": "cmu", "subject": "01", "style": "", "activity": "walk", "licence": "test",
        "fps": 10.0, "num_frames": 5}


def _corpus(*, manifest: object = "default", shard: dict | None = None, shard_bytes: bytes | None = None,
            report: object = "default", split: str = "train") -> Path:
    """A small corpus folder in the real layout (one shard), optionally broken."""
    folder = _tmp() / "corpus"
    folder.mkdir()
    arrays = {"poses": np.zeros((5, 22, 3), np.float16), "transl": np.zeros((5, 3), np.float32),
              "clips": np.array([json.dumps([CLIP])])}
    if shard is not None:
        arrays.update(shard)
        arrays = {k: v for k, v in arrays.items() if v is not None}
    shard_name = f"{split}-cmu-00.npz"
    if shard_bytes is None:
        corpus._write_npz(folder / shard_name, arrays)
    else:
        (folder / shard_name).write_bytes(shard_bytes)
    if manifest == "default":
        manifest = {"shards": [{"file": shard_name, "split": split}], "target_rest_joints": J.tolist()}
    if isinstance(manifest, (dict, list)):
        (folder / corpus.MANIFEST).write_text(json.dumps(manifest))
    elif isinstance(manifest, str):
        (folder / corpus.MANIFEST).write_text(manifest)
    if report == "default":
        report = {"counts": {}}
    if isinstance(report, dict):
        (folder / corpus.REPORT).write_text(json.dumps(report))
    elif isinstance(report, str):
        (folder / corpus.REPORT).write_text(report)
    return folder


@functools.cache
def _loaded() -> corpus.MotionCorpus:
    return corpus.load_corpus("train", directory=_corpus(), use_amass=False)


def _tar_xz(member: str) -> bytes:
    """A valid ``.tar.xz`` holding one small file at ``member``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tf:
        data = b"not mocap"
        info = tarfile.TarInfo(member)
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _raw(cmu: bytes, bandai: bytes) -> Path:
    raw = _tmp() / "raw"
    raw.mkdir()
    (raw / build.CMU_ARCHIVE).write_bytes(cmu)
    (raw / build.BANDAI_ARCHIVE).write_bytes(bandai)
    return raw


def _build(raw, **kw):
    """build_corpus into a fresh folder, on the placeholder body (no body model needed)."""
    with mock.patch.object(build, "target_rest_joints", lambda: (J, "placeholder (test)")):
        return build.build_corpus(raw, kw.pop("out_dir", _tmp() / "out"), **kw)


def _nonempty_dir() -> Path:
    d = _tmp() / "precious"
    d.mkdir()
    (d / "thesis.tex").write_text("do not delete")
    return d


@functools.cache
def _ax():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    return ax


def _fk_joints(T: int = 4) -> np.ndarray:
    poses, transl = _motion(T)
    return retarget.smpl_forward_kinematics(retarget.axis_angle_to_rotmat_np(poses), J, transl)[1]


def _rotmats(T: int = 2) -> np.ndarray:
    return retarget.axis_angle_to_rotmat_np(_motion(T)[0])


def _with_nan(x: np.ndarray, index: tuple | None = None) -> np.ndarray:
    """A copy of ``x`` with one NaN: the first element, or the element / row at ``index``."""
    x = np.array(x, dtype=np.float64)
    if index is None:
        x.reshape(-1)[0] = NAN
    else:
        x[index] = NAN
    return x


@functools.cache
def _cmu_calibration() -> retarget.Calibration:
    return sources.cmu_calibration(_skeleton(), J)


def _calibrate_args(**override):
    return {"reference_rotations": np.broadcast_to(np.eye(3), (24, 3, 3)).copy(),
            "reference_segments": np.tile([0.0, 1.0, 0.0], (24, 1)),
            "driven": np.ones(24, dtype=bool), "rest_joints": J, **override}


# --------------------------------------------------------------------------- BVH

R = "humanlib.data.bvh."
CASES = [
    raises(R + "read_bvh", "missing file", lambda: bvh.read_bvh(_tmp() / "nope.bvh"), FileNotFoundError,
           r"BVH file .*nope\.bvh does not exist"),
    raises(R + "read_bvh", "a directory", lambda: bvh.read_bvh(_tmp()), FileNotFoundError, "is a directory"),
    raises(R + "read_bvh", "path is None", lambda: bvh.read_bvh(None), TypeError, "str or pathlib.Path"),
    raises(R + "read_bvh", "garbage bytes", lambda: bvh.read_bvh(_file("garb.bvh", GARBAGE)), BvhFormatError,
           r"garb\.bvh, line 1: expected 'HIERARCHY'"),
    raises(R + "read_bvh", "empty file", lambda: bvh.read_bvh(_file("empty.bvh", "")), BvhFormatError,
           r"empty\.bvh, line 1: expected 'HIERARCHY'"),
    raises(R + "read_bvh", "an ASF file", lambda: bvh.read_bvh(_asf(name="skel.bvh")), BvhFormatError,
           r"skel\.bvh, line 1: .*ASF/AMC file: use read_asf"),
    raises(R + "read_bvh", "an AMC file", lambda: bvh.read_bvh(_amc(name="mot.bvh")), BvhFormatError,
           r"mot\.bvh, line 1: .*ASF/AMC"),
    raises(R + "read_bvh", "an AMASS .npz", lambda: bvh.read_bvh(_amass("motion.npz")), BvhFormatError,
           r"motion\.npz, line 1: expected 'HIERARCHY' on the first line, got 'PK"),
    raises(R + "read_bvh", "truncated inside HIERARCHY", lambda: bvh.read_bvh(_bvh_edit("cut.bvh", lambda l: l[:20])),
           BvhFormatError, r"cut\.bvh, line \d+: no MOTION section \(file truncated\?\)"),
    raises(R + "read_bvh", "truncated before the frame time",
           lambda: bvh.read_bvh(_bvh_edit("cut2.bvh", lambda l: l[:_motion_line() + 2])),
           BvhFormatError, r"cut2\.bvh, line \d+: expected 'Frame Time:' \(file truncated\?\)"),
    raises(R + "read_bvh", "truncated frames", lambda: bvh.read_bvh(_bvh_edit("cut3.bvh", lambda l: l[:-1])),
           BvhFormatError, r"cut3\.bvh, line \d+: file has 2 frames but its header says 3 \(truncated\?\)"),
    raises(R + "read_bvh", "frame line cut in the middle",
           lambda: bvh.read_bvh(_bvh_edit("mid.bvh", lambda l: l[:-1] + [" ".join(l[-1].split()[:7])])),
           BvhFormatError, r"mid\.bvh, line \d+: frame 2 has 7 numbers, expected 132"),
    raises(R + "read_bvh", "CHANNELS count disagrees with the list",
           lambda: bvh.read_bvh(_bvh(_bvh_text().replace("CHANNELS 6 ", "CHANNELS 5 ", 1), "ch.bvh")),
           BvhFormatError, r"ch\.bvh, line 5: CHANNELS says 5 but lists 6"),
    raises(R + "read_bvh", "unknown channel",
           lambda: bvh.read_bvh(_bvh(_bvh_text().replace("Yrotation", "Wrotation", 1), "unk.bvh")),
           BvhFormatError, r"unk\.bvh, line 5: unknown channel 'Wrotation'"),
    raises(R + "read_bvh", "CHANNELS inside an End Site",
           lambda: bvh.read_bvh(_bvh(_bvh_text().replace("OFFSET 0 0 0\n", "OFFSET 0 0 0\nCHANNELS 1 Xrotation\n", 1),
                                     "es.bvh")),
           BvhFormatError, r"es\.bvh, line \d+: CHANNELS outside a ROOT/JOINT block"),
    raises(R + "read_bvh", "one channel fewer in every frame line",
           lambda: bvh.read_bvh(_bvh_edit("rows.bvh", lambda l: l[:_motion_line() + 3] + [
               " ".join(row.split()[:-1]) for row in l[_motion_line() + 3:]])),
           BvhFormatError, r"rows\.bvh, line \d+: frame 0 has 131 numbers, expected 132"),
    raises(R + "read_bvh", "Frames: 0 (an empty motion)",
           lambda: bvh.read_bvh(_bvh_edit("zero.bvh", lambda l: _replace_line(l, _motion_line() + 1, "Frames: 0")[
               :_motion_line() + 3])),
           BvhFormatError, r"zero\.bvh, line \d+: Frames must be >= 1"),
    raises(R + "read_bvh", "Frames: -2", lambda: bvh.read_bvh(_bvh_edit(
        "neg.bvh", lambda l: _replace_line(l, _motion_line() + 1, "Frames: -2"))), BvhFormatError, r"neg\.bvh, line \d+: Frames must"),
    raises(R + "read_bvh", "Frames not a number", lambda: bvh.read_bvh(_bvh_edit(
        "fr.bvh", lambda l: _replace_line(l, _motion_line() + 1, "Frames: many"))), BvhFormatError,
        r"fr\.bvh, line \d+: bad MOTION header"),
    raises(R + "read_bvh", "Frame Time 0", lambda: bvh.read_bvh(_bvh_edit(
        "ft0.bvh", lambda l: _replace_line(l, _motion_line() + 2, "Frame Time: 0"))), BvhFormatError, "Frame Time a finite number > 0"),
    raises(R + "read_bvh", "Frame Time nan", lambda: bvh.read_bvh(_bvh_edit(
        "ftn.bvh", lambda l: _replace_line(l, _motion_line() + 2, "Frame Time: nan"))), BvhFormatError, "Frame Time a finite"),
    raises(R + "read_bvh", "Frame Time inf", lambda: bvh.read_bvh(_bvh_edit(
        "fti.bvh", lambda l: _replace_line(l, _motion_line() + 2, "Frame Time: inf"))), BvhFormatError, "Frame Time a finite"),
    raises(R + "read_bvh", "a value that is not a number", lambda: bvh.read_bvh(_bvh_edit(
        "txt.bvh", lambda l: l[:-1] + [l[-1].replace(l[-1].split()[4], "abc", 1)])), BvhFormatError,
        r"txt\.bvh, line \d+: frame 2 holds a value that is not a number"),
    raises(R + "read_bvh", "NaN in a frame names its line", lambda: bvh.read_bvh(_bvh_edit(
        "nan.bvh", lambda l: l[:-2] + ["nan " + " ".join(l[-2].split()[1:]), l[-1]])), BvhFormatError,
        rf"nan\.bvh, line {len(_bvh_lines()) - 1}: frame 1 holds NaN or inf"),
    raises(R + "read_bvh", "more frame lines than Frames", lambda: bvh.read_bvh(_bvh_edit(
        "more.bvh", lambda l: l + [l[-1]])), BvhFormatError, r"more\.bvh, line \d+: more frame lines than Frames: 3"),
    raises(R + "read_bvh", "OFFSET with two numbers",
           lambda: bvh.read_bvh(_bvh(_bvh_text().replace("OFFSET 0 0 0", "OFFSET 0 0", 1), "off.bvh")),
           BvhFormatError, r"off\.bvh, line \d+: OFFSET needs 3 numbers"),
    raises(R + "read_bvh", "OFFSET with NaN",
           lambda: bvh.read_bvh(_bvh(_bvh_text().replace("OFFSET 0 0 0", "OFFSET 0 nan 0", 1), "offn.bvh")),
           BvhFormatError, r"offn\.bvh, line \d+: OFFSET holds NaN or inf"),
    raises(R + "read_bvh", "unbalanced braces", lambda: bvh.read_bvh(_bvh(_bvh_text().replace("}\n", "", 1), "br.bvh")),
           BvhFormatError, r"br\.bvh, line \d+: HIERARCHY ends with unclosed"),
    raises(R + "read_bvh", "a joint name twice",
           lambda: bvh.read_bvh(_bvh(_bvh_text().replace("JOINT Spine", "JOINT Hips", 1), "dup.bvh")),
           BvhFormatError, r"dup\.bvh, line \d+: joint name 'Hips' appears twice"),
    raises(R + "read_bvh", "End Site without its '{'", lambda: bvh.read_bvh(_bvh_edit(
        "es2.bvh", _drop_first_end_site_brace)), BvhFormatError,
        r"es2\.bvh, line \d+: expected '\{' to open End Site declared on the line before, got 'OFFSET'"),
    raises(R + "read_bvh", "JOINT without its '{'", lambda: bvh.read_bvh(_bvh_edit(
        "j.bvh", lambda l: l[:2] + l[3:])), BvhFormatError,
        r"j\.bvh, line 3: expected '\{' to open joint 'joint_Root' declared on the line before, got 'OFFSET'"),
    raises(R + "read_bvh", "no joints", lambda: bvh.read_bvh(_file("nj.bvh", "HIERARCHY\nMOTION\nFrames: 1\nFrame Time: 0.1\n\n")),
           BvhFormatError, r"nj\.bvh, line \d+: no joints"),
    returns(R + "read_bvh", "a valid file parses", lambda: bvh.read_bvh(_bvh()),
            lambda m: m.frames.shape == (3, 132) and len(m.names) == 22),
    raises(R + "BvhMotion.index", "unknown joint", lambda: _read_bvh().index("Tail"), KeyError, "no joint 'Tail'; joints: joint_Root"),
    raises(R + "bvh_local_rotations", "not a BvhMotion", lambda: bvh.bvh_local_rotations(_asf_amc_text()),
           TypeError, r"motion must be a BvhMotion \(from read_bvh\)"),
    raises(R + "bvh_local_rotations", "frames do not match the channels",
           lambda: bvh.bvh_local_rotations(bvh.BvhMotion(**{**_read_bvh().__dict__, "frames": np.zeros((3, 5))})),
           ValueError, r"motion\.frames has shape \(3, 5\) but the joints' CHANNELS add up to 132"),
    raises(R + "bvh_local_translations", "not a BvhMotion", lambda: bvh.bvh_local_translations(None), TypeError,
           "BvhMotion"),
    returns(R + "bvh_local_translations", "valid motion", lambda: bvh.bvh_local_translations(_read_bvh()),
            lambda t: t.shape == (3, 22, 3)),
    raises(R + "bvh_forward_kinematics", "scale 0", lambda: bvh.bvh_forward_kinematics(_read_bvh(), scale=0.0),
           ValueError, r"scale must be a finite number > 0"),
    raises(R + "bvh_forward_kinematics", "scale NaN", lambda: bvh.bvh_forward_kinematics(_read_bvh(), scale=NAN),
           ValueError, "scale must be a finite"),
    raises(R + "bvh_forward_kinematics", "scale a string", lambda: bvh.bvh_forward_kinematics(_read_bvh(), scale="cm"),
           TypeError, "scale must be a number"),
    raises(R + "bvh_forward_kinematics", "local_rotations with the wrong joint count",
           lambda: bvh.bvh_forward_kinematics(_read_bvh(), local_rotations=np.zeros((3, 24, 3, 3))),
           ValueError, r"local_rotations must have shape \(3, 22, 3, 3\)"),
    raises(R + "bvh_forward_kinematics", "local_rotations not (T, J, 3, 3)",
           lambda: bvh.bvh_forward_kinematics(_read_bvh(), local_rotations=np.zeros((3, 22, 9))),
           ValueError, r"local_rotations must have shape \(T, J, 3, 3\)"),
    raises(R + "bvh_forward_kinematics", "local_rotations with NaN",
           lambda: bvh.bvh_forward_kinematics(_read_bvh(), local_rotations=_with_nan(np.zeros((3, 22, 3, 3)))),
           ValueError, r"local_rotations contains 1 non-finite"),
    raises(R + "bvh_forward_kinematics", "local_rotations a torch tensor",
           lambda: bvh.bvh_forward_kinematics(_read_bvh(), local_rotations=torch.zeros(3, 22, 3, 3)),
           TypeError, r"local_rotations must be a numpy array of shape \(T, J, 3, 3\); got a torch\.Tensor \(use \.numpy\(\)\)"),
    raises(R + "bvh_forward_kinematics", "not a BvhMotion", lambda: bvh.bvh_forward_kinematics(_skeleton()),
           TypeError, r"motion must be a BvhMotion .*got AsfSkeleton"),
]

# --------------------------------------------------------------------------- ASF / AMC

R = "humanlib.data.asf_amc."
CASES += [
    raises(R + "read_asf", "missing file", lambda: asf_amc.read_asf(_tmp() / "no.asf"), FileNotFoundError,
           r"ASF file .*no\.asf does not exist"),
    raises(R + "read_asf", "a directory", lambda: asf_amc.read_asf(_tmp()), FileNotFoundError, "is a directory"),
    raises(R + "read_asf", "path is an int", lambda: asf_amc.read_asf(3), TypeError, "str or pathlib.Path"),
    raises(R + "read_asf", "garbage bytes", lambda: asf_amc.read_asf(_file("g.asf", GARBAGE)), AsfAmcFormatError,
           r"g\.asf, line \d+: "),
    raises(R + "read_asf", "empty file", lambda: asf_amc.read_asf(_file("e.asf", "")), AsfAmcFormatError,
           r"e\.asf, line 1: no :bonedata .*not an ASF file"),
    raises(R + "read_asf", "a BVH file", lambda: asf_amc.read_asf(_bvh(name="b.asf")), AsfAmcFormatError,
           r"b\.asf, line 1: this is a BVH file .*use read_bvh"),
    raises(R + "read_asf", "an AMC file", lambda: asf_amc.read_asf(_amc(name="m.asf")), AsfAmcFormatError,
           r"m\.asf, line \d+: no :bonedata"),
    raises(R + "read_asf", "an AMASS .npz", lambda: asf_amc.read_asf(_amass("motion.npz")), AsfAmcFormatError,
           r"motion\.npz, line \d+: "),
    raises(R + "read_amc", "an AMASS .npz", lambda: asf_amc.read_amc(_amass("motion.npz"), _skeleton()), AsfAmcFormatError,
           r"motion\.npz, line \d+: "),
    raises(R + "read_asf", "a bone block without 'end' reads as one message", lambda: asf_amc.read_asf(
        _asf_edit("noend2.asf", "  end\n  begin", "  begin", count=1)), AsfAmcFormatError,
        r"^[^()]*noend2\.asf, line \d+: 'begin' inside"),
    raises(R + "read_asf", "truncated inside a bone", lambda: asf_amc.read_asf(
        _asf("\n".join(_asf_amc_text()[0].splitlines()[:30]) + "\n", "cut.asf")), AsfAmcFormatError,
        r"cut\.asf, line 30: file ends inside a bone block \(truncated\?\)"),
    raises(R + "read_asf", "truncated in the hierarchy", lambda: asf_amc.read_asf(
        _asf("\n".join(_asf_amc_text()[0].splitlines()[:-2]) + "\n", "cut2.asf")), AsfAmcFormatError,
        r"cut2\.asf, line \d+: no :bonedata or no complete :hierarchy \(truncated"),
    raises(R + "read_asf", "length unit 0", lambda: asf_amc.read_asf(_asf_edit("u.asf", "length 0.45", "length 0")),
           AsfAmcFormatError, r"u\.asf, line 5: cannot read 'length' \(length unit must be a finite number > 0"),
    raises(R + "read_asf", "negative bone length",
           lambda: asf_amc.read_asf(_asf(re.sub(r"\n     length (\d)", r"\n     length -\1", _asf_amc_text()[0], count=1),
                                         "neg.asf")),
           AsfAmcFormatError, r"neg\.asf, line \d+: cannot read 'length' \(length must be a finite number >= 0"),
    raises(R + "read_asf", "direction with two numbers",
           lambda: asf_amc.read_asf(_asf(re.sub(r"direction (\S+) (\S+) \S+", r"direction \1 \2", _asf_amc_text()[0], count=1),
                                         "dir.asf")),
           AsfAmcFormatError, r"dir\.asf, line \d+: cannot read 'direction' \(direction needs 3 finite numbers"),
    raises(R + "read_asf", "unknown dof channel", lambda: asf_amc.read_asf(_asf_edit("dof.asf", "dof rx ry rz", "dof rx qy rz")),
           AsfAmcFormatError, r"dof\.asf, line \d+: cannot read 'dof' \(unknown channels \['qy'\]"),
    raises(R + "read_asf", "bad Euler order", lambda: asf_amc.read_asf(_asf(re.sub(r" XYZ\n", " XYW\n", _asf_amc_text()[0], count=2),
                                                                                "ax.asf")),
           AsfAmcFormatError, r"ax\.asf, line \d+: cannot read 'axis' \(Euler order 'XYW' must name X, Y and Z"),
    raises(R + "read_asf", "unknown root channel", lambda: asf_amc.read_asf(_asf_edit("ro.asf", "order TX TY TZ", "order TX TY TW")),
           AsfAmcFormatError, r"ro\.asf, line \d+: cannot read 'order' \(unknown root channels \['TW'\]"),
    raises(R + "read_asf", "bone missing from the hierarchy",
           lambda: asf_amc.read_asf(_asf_edit("h.asf", "root lhipjoint rhipjoint lowerback", "root rhipjoint lowerback")),
           AsfAmcFormatError, r"h\.asf, line \d+: bone 'lhipjoint' does not appear in :hierarchy"),
    raises(R + "read_asf", "a bone block without 'end'", lambda: asf_amc.read_asf(
        _asf_edit("noend.asf", "  end\n  begin", "  begin", count=1)), AsfAmcFormatError,
        r"noend\.asf, line \d+: 'begin' inside a bone block \(the previous bone has no 'end'\)"),
    raises(R + "read_asf", "a bone name twice", lambda: asf_amc.read_asf(
        _asf_edit("twice.asf", "name rfemur", "name lfemur")), AsfAmcFormatError,
        r"twice\.asf, line \d+: bone name 'lfemur' appears twice"),
    raises(R + "read_asf", "zero direction with a length", lambda: asf_amc.read_asf(
        _asf(re.sub(r"direction \S+ \S+ \S+", "direction 0 0 0", _asf_amc_text()[0], count=2), "zd.asf")),
        AsfAmcFormatError, r"zd\.asf, line \d+: bone '\w+' has length [\d.]+ but direction 0 0 0"),
    returns(R + "read_asf", "a valid file parses", lambda: asf_amc.read_asf(_asf()), lambda s: len(s.bones) == 27),
    raises(R + "AsfSkeleton.index", "unknown bone", lambda: _skeleton().index("tail"), KeyError, "no bone 'tail'; bones: root"),
    raises(R + "read_amc", "missing file", lambda: asf_amc.read_amc(_tmp() / "no.amc", _skeleton()), FileNotFoundError,
           r"AMC file .*no\.amc does not exist"),
    raises(R + "read_amc", "skeleton is a path", lambda: asf_amc.read_amc(_amc(), _asf()), TypeError,
           r"skeleton must be an AsfSkeleton \(from read_asf\)"),
    raises(R + "read_amc", "fps 0", lambda: asf_amc.read_amc(_amc(), _skeleton(), fps=0), ValueError, "fps must be a finite number > 0"),
    raises(R + "read_amc", "fps NaN", lambda: asf_amc.read_amc(_amc(), _skeleton(), fps=NAN), ValueError, "fps must be a finite"),
    raises(R + "read_amc", "garbage bytes", lambda: asf_amc.read_amc(_file("g.amc", GARBAGE), _skeleton()), AsfAmcFormatError,
           r"g\.amc, line \d+: "),
    raises(R + "read_amc", "empty file", lambda: asf_amc.read_amc(_file("e.amc", ""), _skeleton()), AsfAmcFormatError,
           r"e\.amc, line 1: no frames"),
    raises(R + "read_amc", "header only (an empty motion)", lambda: asf_amc.read_amc(_amc_edit("h.amc", lambda l: l[:2]), _skeleton()),
           AsfAmcFormatError, r"h\.amc, line 2: no frames"),
    raises(R + "read_amc", "a BVH file", lambda: asf_amc.read_amc(_bvh(name="b.amc"), _skeleton()), AsfAmcFormatError,
           r"b\.amc, line 1: expected a frame number, got 'HIERARCHY' \(this is a BVH file: use read_bvh\)"),
    raises(R + "read_amc", "an ASF file", lambda: asf_amc.read_amc(_asf(name="s.amc"), _skeleton()), AsfAmcFormatError,
           r"s\.amc, line \d+: bone values before the first frame number"),
    raises(R + "read_amc", "wrong channel count", lambda: asf_amc.read_amc(
        _amc_edit("w.amc", lambda l: _replace_line(l, 4, " ".join(l[4].split()[:3]))), _skeleton()),
        AsfAmcFormatError, r"w\.amc, line 5: bone '\w+' has 2 values, its dof lists 3"),
    raises(R + "read_amc", "unknown bone", lambda: asf_amc.read_amc(
        _amc_edit("u.amc", lambda l: _replace_line(l, 4, "tail 1 2 3")), _skeleton()),
        AsfAmcFormatError, r"u\.amc, line 5: bone 'tail' is not in the skeleton"),
    raises(R + "read_amc", "a bone twice in a frame", lambda: asf_amc.read_amc(
        _amc_edit("t.amc", lambda l: l[:5] + [l[4]] + l[5:]), _skeleton()),
        AsfAmcFormatError, r"t\.amc, line 6: bone '\w+' appears twice in frame 1"),
    raises(R + "read_amc", "truncated last frame", lambda: asf_amc.read_amc(_amc_edit("c.amc", lambda l: l[:-3]), _skeleton()),
           AsfAmcFormatError, r"c\.amc, line \d+: frame 3 lacks bones"),
    raises(R + "read_amc", "frame numbers skip", lambda: asf_amc.read_amc(
        _amc_edit("s.amc", lambda l: [("9" if x == "2" else x) for x in l]), _skeleton()),
        AsfAmcFormatError, r"s\.amc, line \d+: frame number 9 follows frame 1"),
    raises(R + "read_amc", "NaN value", lambda: asf_amc.read_amc(
        _amc_edit("n.amc", lambda l: _replace_line(l, 4, l[4].split()[0] + " nan 0 0")), _skeleton()),
        AsfAmcFormatError, r"n\.amc, line \d+: bone '\w+' holds NaN or inf"),
    returns(R + "read_amc", "a valid file parses", lambda: asf_amc.read_amc(_amc(), _skeleton()), lambda m: m.num_frames == 3),
    raises(R + "amc_forward_kinematics", "skeleton of the wrong type", lambda: asf_amc.amc_forward_kinematics(_read_bvh()),
           TypeError, r"skeleton must be an AsfSkeleton .*got BvhMotion"),
    raises(R + "amc_forward_kinematics", "motion of the wrong type", lambda: asf_amc.amc_forward_kinematics(_skeleton(), _read_bvh()),
           TypeError, r"motion must be an AmcMotion \(from read_amc\)"),
    raises(R + "amc_forward_kinematics", "num_frames 0", lambda: asf_amc.amc_forward_kinematics(_skeleton(), num_frames=0),
           ValueError, r"num_frames must be a finite integer > 0"),
    raises(R + "amc_forward_kinematics", "num_frames 1.5", lambda: asf_amc.amc_forward_kinematics(_skeleton(), num_frames=1.5),
           TypeError, "num_frames must be an integer"),
    raises(R + "amc_forward_kinematics", "a motion read for another skeleton",
           lambda: asf_amc.amc_forward_kinematics(
               asf_amc.read_asf(_asf_edit("other.asf", "dof rx ry rz", "dof rx", count=3)), _amc_motion()),
           ValueError, r"does not fit skeleton .*other\.asf"),
    returns(R + "amc_forward_kinematics", "zero pose", lambda: asf_amc.amc_forward_kinematics(_skeleton(), num_frames=2),
            lambda p: p.rotations.shape == (2, 27, 3, 3) and np.isfinite(p.ends).all()),
]

# --------------------------------------------------------------------------- AMASS

R = "humanlib.data.amass."
CASES += [
    raises(R + "load_amass_npz", "missing file", lambda: amass.load_amass_npz(_tmp() / "no.npz"), FileNotFoundError,
           r"AMASS file .*no\.npz does not exist; point HUMANLIB_AMASS_DIR"),
    raises(R + "load_amass_npz", "a directory", lambda: amass.load_amass_npz(_tmp()), FileNotFoundError, "is a directory"),
    raises(R + "load_amass_npz", "garbage bytes", lambda: amass.load_amass_npz(_file("g.npz", GARBAGE)), AmassFormatError,
           r"g\.npz: not an \.npz archive: it does not start with a zip header"),
    raises(R + "load_amass_npz", "truncated", lambda: amass.load_amass_npz(_file("cut.npz", _amass().read_bytes()[:300])),
           AmassFormatError, r"cut\.npz"),
    raises(R + "load_amass_npz", "a .npy array", lambda: _npy_case(),
           AmassFormatError, r"a single array .*not an \.npz archive"),
    raises(R + "load_amass_npz", "a BVH file", lambda: amass.load_amass_npz(_bvh(name="m.npz")), AmassFormatError,
           r"m\.npz: not an \.npz archive"),
    raises(R + "load_amass_npz", "missing key 'poses'", lambda: amass.load_amass_npz(_amass("np.npz", drop=("poses",))),
           AmassFormatError, r"np\.npz: missing key 'poses'"),
    raises(R + "load_amass_npz", "missing key 'trans'", lambda: amass.load_amass_npz(_amass("nt.npz", drop=("trans",))),
           AmassFormatError, r"nt\.npz: missing key 'trans'"),
    raises(R + "load_amass_npz", "no frame-rate key", lambda: amass.load_amass_npz(_amass("nr.npz", rate_key=None)),
           AmassFormatError, r"nr\.npz: missing key 'mocap_framerate' or 'mocap_frame_rate'"),
    raises(R + "load_amass_npz", "frame rate under another name",
           lambda: amass.load_amass_npz(_amass("fr.npz", rate_key="framerate")),
           AmassFormatError, r"fr\.npz: missing key 'mocap_framerate' or 'mocap_frame_rate'"),
    returns(R + "load_amass_npz", "SMPL-X release key mocap_frame_rate",
            lambda: amass.load_amass_npz(_amass("x.npz", width=165, rate_key="mocap_frame_rate", fps=60.0)),
            lambda m: m.fps == 60.0 and m.model_type == "SMPL-X" and m.poses.shape == (4, 24, 3)),
    returns(R + "load_amass_npz", "SMPL width 72", lambda: amass.load_amass_npz(_amass("s.npz", width=72)),
            lambda m: m.model_type == "SMPL"),
    raises(R + "load_amass_npz", "pose width 100", lambda: amass.load_amass_npz(_amass("w.npz", width=100)),
           AmassFormatError, r"w\.npz: key 'poses' has shape \(4, 100\), expected \(T, 72\), \(T, 156\) or \(T, 165\)"),
    raises(R + "load_amass_npz", "pose width 66", lambda: amass.load_amass_npz(_amass("w66.npz", width=66)),
           AmassFormatError, r"key 'poses' has shape \(4, 66\)"),
    raises(R + "load_amass_npz", "poses 3-D (T, 52, 3)", lambda: amass.load_amass_npz(
        _amass("p3.npz", poses=np.zeros((4, 52, 3)))), AmassFormatError, r"key 'poses' has shape \(4, 52, 3\)"),
    raises(R + "load_amass_npz", "no frames", lambda: amass.load_amass_npz(_amass("e.npz", T=0)), AmassFormatError,
           r"e\.npz: key 'poses' holds no frames"),
    raises(R + "load_amass_npz", "trans with other frame count", lambda: amass.load_amass_npz(
        _amass("t.npz", trans=np.zeros((5, 3)))), AmassFormatError, r"t\.npz: key 'trans' has shape \(5, 3\), expected \(4, 3\)"),
    raises(R + "load_amass_npz", "NaN poses", lambda: amass.load_amass_npz(
        _amass("n.npz", poses=_with_nan(np.zeros((4, 156))))), AmassFormatError, r"n\.npz: key 'poses' or 'trans' holds NaN"),
    raises(R + "load_amass_npz", "NaN betas", lambda: amass.load_amass_npz(_amass("nb.npz", betas=_with_nan(np.zeros(16)))),
           AmassFormatError, r"nb\.npz: key 'betas' holds NaN or inf"),
    raises(R + "load_amass_npz", "frame rate 0", lambda: amass.load_amass_npz(_amass("f0.npz", fps=0.0)), AmassFormatError,
           r"f0\.npz: key 'mocap_framerate' is 0\.0, expected a positive frame rate"),
    raises(R + "load_amass_npz", "frame rate inf", lambda: amass.load_amass_npz(_amass("fi.npz", fps=INF)), AmassFormatError,
           "expected a positive frame rate"),
    raises(R + "load_amass_npz", "frame rate an array", lambda: amass.load_amass_npz(_amass("fa.npz", fps=[30.0, 60.0])),
           AmassFormatError, r"fa\.npz: key 'mocap_framerate' has shape \(2,\), expected one number"),
    raises(R + "load_amass_npz", "poses of strings", lambda: amass.load_amass_npz(_amass("str.npz", poses=np.array([["a"] * 156]))),
           AmassFormatError, r"str\.npz: key 'poses' holds <U1 values, expected numbers"),
    raises(R + "load_amass_npz", "an object array (pickle)", lambda: amass.load_amass_npz(
        _amass("obj.npz", betas=np.array([None, 1], dtype=object))), AmassFormatError, r"obj\.npz: key 'betas' cannot be read"),
    raises(R + "load_amass_npz", "y_up a string", lambda: amass.load_amass_npz(_amass(), y_up="z"), TypeError,
           "y_up must be True or False; got 'z'"),
    raises(R + "load_amass_npz", "pelvis_rest of shape (2,)", lambda: amass.load_amass_npz(_amass(), pelvis_rest=np.zeros(2)),
           ValueError, r"pelvis_rest must have shape \(3,\)"),
    raises(R + "load_amass_npz", "pelvis_rest a tensor", lambda: amass.load_amass_npz(_amass(), pelvis_rest=torch.zeros(3)),
           TypeError, r"pelvis_rest must be a numpy array .*\.numpy\(\)"),
    raises(R + "amass_split_of", "not a string", lambda: amass.amass_split_of(None), TypeError, "dataset must be an AMASS sub-dataset"),
    returns(R + "amass_split_of", "an unknown sub-dataset is train", lambda: amass.amass_split_of("NotInAMASS"), lambda s: s == "train"),
    raises(R + "find_amass_files", "missing folder", lambda: amass.find_amass_files(_tmp() / "none"), FileNotFoundError,
           r"AMASS folder .*none does not exist; point HUMANLIB_AMASS_DIR"),
    raises(R + "find_amass_files", "a file", lambda: amass.find_amass_files(_amass()), FileNotFoundError, "is a file, not a folder"),
    raises(R + "find_amass_files", "not a path", lambda: amass.find_amass_files(3.0), TypeError, "root must be a str or pathlib.Path"),
    returns(R + "find_amass_files", "shape files are not motions", lambda: amass.find_amass_files(_amass_dir({
        "CMU/01/shape.npz": b"", "KIT/3/female_stagei.npz": b"", "KIT/3/walk_stageii.npz": None})),
        lambda r: [(d, p.name) for d, p in r] == [("KIT", "walk_stageii.npz")]),
    returns(R + "find_amass_files", "an empty folder has no files", lambda: amass.find_amass_files(_tmp()), lambda r: r == []),
]


def _npy_case():
    path = _tmp() / "a.npz"
    with open(path, "wb") as fh:
        np.save(fh, np.zeros((4, 156)))
    return amass.load_amass_npz(path)


# --------------------------------------------------------------------------- corpus

R = "humanlib.data.corpus."
CASES += [
    raises(R + "load_corpus", "unknown split", lambda: corpus.load_corpus("training"), ValueError,
           r"split must be one of \('train', 'val', 'test'\), got 'training'"),
    raises(R + "load_corpus", "split in capitals", lambda: corpus.load_corpus("Train"), ValueError, "split must be one of"),
    raises(R + "load_corpus", "split None", lambda: corpus.load_corpus(None), ValueError, "got None"),
    raises(R + "load_corpus", "split a list", lambda: corpus.load_corpus(["train"]), ValueError, "split must be one of"),
    raises(R + "load_corpus", "use_amass a string", lambda: corpus.load_corpus("train", use_amass="no"), TypeError,
           "use_amass must be True, False or None; got 'no'"),
    raises(R + "load_corpus", "missing corpus folder", lambda: corpus.load_corpus("train", _tmp() / "none", use_amass=False),
           CorpusError, rf"no motion corpus at .*none \(manifest\.json missing\).*{REBUILD}"),
    raises(R + "load_corpus", "folder without manifest", lambda: corpus.load_corpus("train", _corpus(manifest=None), use_amass=False),
           CorpusError, rf"manifest\.json missing.*{REBUILD}"),
    raises(R + "load_corpus", "directory is a file", lambda: corpus.load_corpus("train", _amass(), use_amass=False),
           CorpusError, r"corpus folder .*m\.npz is a file"),
    raises(R + "load_corpus", "directory an int", lambda: corpus.load_corpus("train", 3, use_amass=False), TypeError,
           "directory must be a str or pathlib.Path"),
    raises(R + "load_corpus", "manifest not JSON", lambda: corpus.load_corpus("train", _corpus(manifest="{\"shards\": [tr"),
                                                                              use_amass=False),
           CorpusError, rf"manifest\.json is corrupt \(not valid JSON.*{REBUILD}"),
    raises(R + "load_corpus", "manifest garbage bytes", lambda: _corpus_with_manifest_bytes(GARBAGE), CorpusError, rf"manifest\.json is corrupt.*{REBUILD}"),
    raises(R + "load_corpus", "manifest a JSON list", lambda: corpus.load_corpus("train", _corpus(manifest=[1, 2]), use_amass=False),
           CorpusError, rf"manifest\.json is corrupt \(a JSON list, not an object\); {REBUILD}"),
    raises(R + "load_corpus", "manifest without shards", lambda: corpus.load_corpus("train", _corpus(manifest={"format": "x"}),
                                                                                   use_amass=False),
           CorpusError, rf"manifest\.json is corrupt \(no list of shards.*{REBUILD}"),
    raises(R + "load_corpus", "manifest shard of an unknown split", lambda: corpus.load_corpus(
        "train", _corpus(manifest={"shards": [{"file": "a.npz", "split": "dev"}]}), use_amass=False),
        CorpusError, r"manifest\.json is corrupt"),
    raises(R + "load_corpus", "missing shard", lambda: corpus.load_corpus("train", _corpus(
        manifest={"shards": [{"file": "train-cmu-07.npz", "split": "train"}]}), use_amass=False),
        CorpusError, rf"corpus shard .*train-cmu-07\.npz is missing \(listed in .*manifest\.json\); {REBUILD}"),
    raises(R + "load_corpus", "truncated shard", lambda: _corpus_with_cut_shard(200), CorpusError,
           rf"corpus shard .*train-cmu-00\.npz cannot be read .*{REBUILD}"),
    raises(R + "load_corpus", "shard of garbage bytes", lambda: corpus.load_corpus("train", _corpus(shard_bytes=GARBAGE),
                                                                                   use_amass=False),
           CorpusError, rf"train-cmu-00\.npz cannot be read \(not an \.npz archive.*{REBUILD}"),
    raises(R + "load_corpus", "shard without 'transl'", lambda: corpus.load_corpus("train", _corpus(shard={"transl": None}),
                                                                                   use_amass=False),
           CorpusError, rf"train-cmu-00\.npz cannot be read \(KeyError.*{REBUILD}"),
    raises(R + "load_corpus", "shard with corrupt clip metadata", lambda: corpus.load_corpus(
        "train", _corpus(shard={"clips": np.array(["not json"])}), use_amass=False),
        CorpusError, rf"train-cmu-00\.npz cannot be read \(JSONDecodeError.*{REBUILD}"),
    raises(R + "load_corpus", "shard with clip metadata of the wrong fields", lambda: corpus.load_corpus(
        "train", _corpus(shard={"clips": np.array([json.dumps([{"title": "x"}])])}), use_amass=False),
        CorpusError, rf"train-cmu-00\.npz cannot be read \(TypeError.*{REBUILD}"),
    raises(R + "load_corpus", "shard with 24 joints", lambda: corpus.load_corpus(
        "train", _corpus(shard={"poses": np.zeros((5, 24, 3), np.float16)}), use_amass=False),
        CorpusError, rf"poses \(5, 24, 3\) / transl \(5, 3\), expected \(N, 22, 3\) / \(N, 3\); {REBUILD}"),
    raises(R + "load_corpus", "shard with NaN poses", lambda: corpus.load_corpus(
        "train", _corpus(shard={"poses": _with_nan(np.zeros((5, 22, 3))).astype(np.float16)}), use_amass=False),
        CorpusError, rf"holds NaN or inf poses.*{REBUILD}"),
    raises(R + "load_corpus", "clip lengths that do not add up", lambda: corpus.load_corpus(
        "train", _corpus(shard={"clips": np.array([json.dumps([{**CLIP, "num_frames": 4}])])}), use_amass=False),
        CorpusError, rf"clip lengths do not add up to 5 frames; {REBUILD}"),
    raises(R + "load_corpus", "a split without clips", lambda: corpus.load_corpus("val", _corpus(), use_amass=False),
           CorpusError, r"has no clips for split 'val'"),
    raises(R + "load_corpus", "use_amass=True without HUMANLIB_AMASS_DIR",
           _env(lambda: corpus.load_corpus("train", use_amass=True), HUMANLIB_AMASS_DIR=None),
           CorpusError, "use_amass=True but HUMANLIB_AMASS_DIR is not set"),
    raises(R + "load_corpus", "HUMANLIB_AMASS_DIR pointing nowhere",
           _env(lambda: corpus.load_corpus("train"), HUMANLIB_AMASS_DIR="/nonexistent/amass"),
           FileNotFoundError, r"AMASS folder /nonexistent/amass does not exist; point HUMANLIB_AMASS_DIR"),
    raises(R + "load_corpus", "HUMANLIB_AMASS_DIR pointing at an empty folder",
           lambda: _env(lambda: corpus.load_corpus("val"), HUMANLIB_AMASS_DIR=_tmp())(),
           CorpusError, r"no AMASS files of split 'val' under .*\(0 \.npz files in all; split 'val' reads the sub-datasets HumanEva"),
    returns(R + "load_corpus", "a valid small corpus loads", lambda: corpus.load_corpus("train", _corpus(), use_amass=False),
            lambda c: c.poses.shape == (5, 24, 3) and c.clips[0].start == 0),
    raises(R + "load_amass_corpus", "unknown split", lambda: corpus.load_amass_corpus("training", _tmp()), ValueError,
           "split must be one of"),
    raises(R + "load_amass_corpus", "max_files 0", lambda: corpus.load_amass_corpus("train", _tmp(), max_files=0), ValueError,
           "max_files must be a finite integer > 0"),
    raises(R + "load_amass_corpus", "missing folder", lambda: corpus.load_amass_corpus("train", _tmp() / "x"), FileNotFoundError,
           "AMASS folder .* does not exist"),
    raises(R + "load_amass_corpus", "a corrupt AMASS file names it", lambda: _env(lambda: corpus.load_amass_corpus(
        "train", _amass_dir({"CMU/01/a_poses.npz": None, "CMU/01/b_poses.npz": GARBAGE})), HUMANLIB_CACHE_DIR=_tmp())(),
        AmassFormatError, r"b_poses\.npz: not an \.npz archive"),
    returns(R + "load_amass_corpus", "a corrupt cache file is rebuilt", lambda: _corrupt_cache_case(),
            lambda c: c.poses.shape == (1, 24, 3) and c.clips[0].source == "amass/CMU"),
    raises(R + "corpus_rest_joints", "missing folder", lambda: corpus.corpus_rest_joints(_tmp() / "none"), CorpusError,
           rf"no motion corpus at .*{REBUILD}"),
    raises(R + "corpus_rest_joints", "manifest not JSON", lambda: corpus.corpus_rest_joints(_corpus(manifest="{")), CorpusError,
           rf"manifest\.json is corrupt \(not valid JSON.*{REBUILD}"),
    raises(R + "corpus_rest_joints", "manifest without rest joints", lambda: corpus.corpus_rest_joints(
        _corpus(manifest={"shards": []})), CorpusError, rf"no finite \(24, 3\) 'target_rest_joints'\); {REBUILD}"),
    raises(R + "corpus_rest_joints", "rest joints of the wrong shape", lambda: corpus.corpus_rest_joints(
        _corpus(manifest={"target_rest_joints": [[0, 0]]})), CorpusError, "target_rest_joints"),
    returns(R + "corpus_rest_joints", "valid manifest", lambda: corpus.corpus_rest_joints(_corpus()),
            lambda r: r.shape == (24, 3)),
    raises(R + "load_report", "missing report", lambda: corpus.load_report(_corpus(report=None)), CorpusError,
           rf"no retargeting report at .*\(retarget_report\.json missing\).*{REBUILD}"),
    raises(R + "load_report", "report not JSON", lambda: corpus.load_report(_corpus(report="{\"counts\"")), CorpusError,
           rf"retarget_report\.json is corrupt.*{REBUILD}"),
    raises(R + "load_report", "directory an int", lambda: corpus.load_report(7), TypeError, "directory must be a str"),
    raises(R + "MotionCorpus.clip", "index past the end", lambda: _loaded().clip(1), IndexError,
           "clip index 1 out of range: the train split has 1 clips"),
    raises(R + "MotionCorpus.clip", "index a clip name", lambda: _loaded().clip("c0"), TypeError, "clip index must be an integer"),
    raises(R + "MotionCorpus.clip", "index a float", lambda: _loaded().clip(0.0), TypeError, "clip index must be an integer"),
    returns(R + "MotionCorpus.clip", "negative index counts from the end", lambda: _loaded().clip(-1),
            lambda r: r[0].shape == (5, 24, 3) and r[1].shape == (5, 3)),
    raises(R + "MotionCorpus.windows", "length 0", lambda: _loaded().windows(0), ValueError, "length must be a finite integer > 0"),
    raises(R + "MotionCorpus.windows", "length 2.5", lambda: _loaded().windows(2.5), TypeError, "length must be an integer"),
    raises(R + "MotionCorpus.windows", "stride -1", lambda: _loaded().windows(2, stride=-1), ValueError, "stride must be a finite integer > 0"),
    returns(R + "MotionCorpus.windows", "windows longer than every clip: none", lambda: _loaded().windows(6),
            lambda r: r[0].shape == (0, 6, 24, 3) and r[1].shape == (0,)),
    returns(R + "MotionCorpus.windows", "overlapping windows", lambda: _loaded().windows(2, stride=1),
            lambda r: r[0].shape == (4, 2, 24, 3)),
    raises(R + "split_of", "subject an int", lambda: corpus.split_of("cmu", "01_01", 1, ""), TypeError, "subject must be a string"),
    returns(R + "split_of", "an unknown source is train", lambda: corpus.split_of("other", "x", "03", "masculine"),
            lambda s: s == "train"),
]


def _corpus_with_manifest_bytes(content: bytes):
    folder = _corpus()
    (folder / corpus.MANIFEST).write_bytes(content)
    return corpus.load_corpus("train", folder, use_amass=False)


def _corpus_with_cut_shard(n: int):
    folder = _corpus()
    shard = folder / "train-cmu-00.npz"
    shard.write_bytes(shard.read_bytes()[:n])
    return corpus.load_corpus("train", folder, use_amass=False)


def _corrupt_cache_case():
    root = _amass_dir({"CMU/01/a_poses.npz": None})
    cache = _tmp()

    def load():
        return corpus.load_amass_corpus("train", root)

    _env(load, HUMANLIB_CACHE_DIR=cache)()
    (cached,) = cache.glob("amass-train-*.npz")
    cached.write_bytes(b"corrupt")
    return _env(load, HUMANLIB_CACHE_DIR=cache)()


# --------------------------------------------------------------------------- build

R = "humanlib.data.build."
CASES += [
    raises(R + "build_corpus", "HUMANLIB_RAW_DATA pointing at an empty folder (default output untouched)",
           lambda: _env(build.build_corpus, HUMANLIB_RAW_DATA=_tmp())(), CorpusError,
           r"raw data folder .* holds neither subjects/ nor cmu-asfamc.*; point HUMANLIB_RAW_DATA .*\.\./shared/data"),
    raises(R + "build_corpus", "HUMANLIB_RAW_DATA pointing at an empty folder, given output",
           lambda: _env(lambda: build.build_corpus(out_dir=_tmp() / "out"), HUMANLIB_RAW_DATA=_tmp())(), CorpusError,
           "holds neither subjects/ nor"),
    raises(R + "build_corpus", "HUMANLIB_RAW_DATA pointing nowhere",
           _env(lambda: build.build_corpus(out_dir=_tmp() / "out"), HUMANLIB_RAW_DATA="/nonexistent/raw"), CorpusError,
           r"raw mocap folder not found \(/nonexistent/raw\); pass --raw DIR or set HUMANLIB_RAW_DATA"),
    raises(R + "build_corpus", "no HUMANLIB_RAW_DATA and no ../shared/data",
           lambda: _no_shared_data(lambda: build.build_corpus(out_dir=_tmp() / "out")), CorpusError,
           r"raw mocap folder not found \(None\).*\.\./shared/data"),
    raises(R + "build_corpus", "raw folder with only one archive", lambda: build.build_corpus(
        _raw_one_archive(), _tmp() / "out"), CorpusError, r"holds neither dataset/ nor bandai-namco"),
    raises(R + "build_corpus", "garbage archives", lambda: _build(_raw(GARBAGE, GARBAGE)), CorpusError,
           r"raw archive .*cmu-asfamc-subjects-01-and-03\.tar\.xz cannot be unpacked \(ReadError: file could not be opened "
           r"successfully\); it is corrupt or truncated: copy it again"),
    raises(R + "build_corpus", "truncated archive", lambda: _build(_raw(_tar_xz("subjects/01/x.txt")[:60], GARBAGE)),
           CorpusError, r"cmu-asfamc-subjects-01-and-03\.tar\.xz cannot be unpacked"),
    raises(R + "build_corpus", "an archive of something else", lambda: _build(_raw(_tar_xz("notes/x.txt"), GARBAGE)),
           CorpusError, r"cmu-asfamc-subjects-01-and-03\.tar\.xz holds no subjects/ folder"),
    raises(R + "build_corpus", "subjects/ without a CMU clip", lambda: _build(_raw_unpacked_without_cmu_clips()), CorpusError,
           r"no CMU clip under .*subjects: expected subject folders NN/ holding NN\.asf and NN_MM\.amc"),
    raises(R + "build_corpus", "progress a string", lambda: _build(_tmp(), progress="yes"), TypeError,
           "progress must be True or False; got 'yes'"),
    raises(R + "build_corpus", "max_clips_per_source 0", lambda: _build(_tmp(), max_clips_per_source=0), ValueError,
           "max_clips_per_source must be a finite integer > 0"),
    raises(R + "build_corpus", "max_clips_per_source a string", lambda: _build(_tmp(), max_clips_per_source="2"), TypeError,
           "max_clips_per_source must be an? integer"),
    raises(R + "build_corpus", "log not callable", lambda: _build(_tmp(), log="stderr"), TypeError, "log must be a callable"),
    raises(R + "build_corpus", "raw_dir an int", lambda: build.build_corpus(5), TypeError, "raw_dir must be a str or pathlib.Path"),
    raises(R + "build_corpus", "out_dir a file", lambda: _build(_raw(GARBAGE, GARBAGE), out_dir=_amass()), CorpusError,
           r"output folder .*m\.npz is a file"),
    raises(R + "build_corpus", "out_dir a non-empty folder that is not a corpus",
           lambda: _build(_raw(GARBAGE, GARBAGE), out_dir=_nonempty_dir()), CorpusError,
           r"output folder .*precious is not empty and holds no corpus"),
]


def _raw_unpacked_without_cmu_clips() -> Path:
    """A raw folder in the unpacked layout whose subjects/ holds no .asf/.amc pair."""
    raw = _tmp() / "raw"
    (raw / "subjects" / "01").mkdir(parents=True)
    (raw / "subjects" / "01" / "notes.txt").write_text("no clips")
    (raw / "dataset").mkdir()
    return raw


def _raw_one_archive() -> Path:
    raw = _raw(GARBAGE, GARBAGE)
    (raw / build.BANDAI_ARCHIVE).unlink()
    return raw


def _no_shared_data(call):
    """``call()`` where neither HUMANLIB_RAW_DATA nor ``../shared/data`` exists."""
    with mock.patch.object(paths, "REPO_DIR", _tmp() / "checkout"):
        return _env(call, HUMANLIB_RAW_DATA=None)()


# --------------------------------------------------------------------------- sources

R = "humanlib.data.sources."
CASES += [
    raises(R + "twist_reference", "unknown joint", lambda: sources.twist_reference("left_wing"), ValueError,
           "name must be an SMPL joint name; got 'left_wing'"),
    raises(R + "twist_reference", "a joint index", lambda: sources.twist_reference(18), ValueError, "SMPL joint name; got 18"),
    raises(R + "validation_bones", "mask of 22 joints", lambda: sources.validation_bones(np.ones(22, bool)), ValueError,
           r"points_available must be a \(24,\) bool array; got shape \(22,\)"),
    raises(R + "validation_bones", "float mask", lambda: sources.validation_bones(np.ones(24)), ValueError, "dtype float64"),
    returns(R + "validation_bones", "every joint available", lambda: sources.validation_bones(np.ones(24, bool)),
            lambda b: len(b) == 23),
    raises(R + "cmu_source_motion", "a BVH motion", lambda: sources.cmu_source_motion(_read_bvh(), None), TypeError,
           "skeleton must be an AsfSkeleton"),
    raises(R + "cmu_source_motion", "a skeleton that is not CMU's", lambda: sources.cmu_source_motion(
        asf_amc.read_asf(_file("tiny.asf", TINY_ASF)), None), ValueError, r"tiny\.asf is not a CMU \(ASF\) rig: it lacks \["),
    raises(R + "cmu_source_motion", "a motion for another skeleton", lambda: sources.cmu_source_motion(
        asf_amc.read_asf(_asf_edit("o.asf", "dof rx ry rz", "dof rz", count=4)), _amc_motion()), ValueError, "does not fit skeleton"),
    raises(R + "cmu_calibration", "rest_joints (22, 3)", lambda: sources.cmu_calibration(_skeleton(), J[:22]), ValueError,
           r"rest_joints must have shape \(24, 3\); got \(22, 3\)"),
    raises(R + "cmu_calibration", "rest_joints NaN", lambda: sources.cmu_calibration(_skeleton(), _with_nan(J)), ValueError,
           "rest_joints contains 1 non-finite"),
    raises(R + "cmu_calibration", "rest_joints a tensor", lambda: sources.cmu_calibration(_skeleton(), torch.from_numpy(J)),
           TypeError, r"\.numpy\(\)"),
    raises(R + "cmu_calibration", "not a skeleton", lambda: sources.cmu_calibration("01.asf", J), TypeError,
           "skeleton must be an AsfSkeleton"),
    raises(R + "bandai_source_motion", "an AMC motion", lambda: sources.bandai_source_motion(_amc_motion()), TypeError,
           r"motion must be a BvhMotion \(from read_bvh\)"),
    raises(R + "bandai_source_motion", "a BVH that is not the Bandai-Namco rig", lambda: sources.bandai_source_motion(
        bvh.read_bvh(_file("tiny.bvh", TINY_BVH))), ValueError, r"tiny\.bvh is not a Bandai-Namco \(BVH\) rig: it lacks"),
    raises(R + "bandai_calibration", "frame past the end", lambda: sources.bandai_calibration(_read_bvh(), J, frame=3),
           ValueError, r"frame 3 is outside the reference motion \(3 frames\)"),
    raises(R + "bandai_calibration", "frame -1", lambda: sources.bandai_calibration(_read_bvh(), J, frame=-1), ValueError,
           "frame must be a finite integer >= 0"),
    raises(R + "bandai_calibration", "rest_joints flat", lambda: sources.bandai_calibration(_read_bvh(), J.reshape(-1)),
           ValueError, r"rest_joints must have shape \(24, 3\)"),
    raises(R + "bandai_calibration", "reference an ASF skeleton", lambda: sources.bandai_calibration(_skeleton(), J),
           TypeError, "reference must be a BvhMotion"),
    raises(R + "leg_length", "points (T, 24, 3)", lambda: sources.leg_length(np.zeros((2, 24, 3))), ValueError,
           r"points must have shape \(24, 3\)"),
    raises(R + "leg_length", "NaN knee", lambda: sources.leg_length(_with_nan(J, (joint("left_knee"),))), ValueError,
           "a hip, knee or ankle is NaN"),
    returns(R + "leg_length", "NaN where the source has no point is fine",
            lambda: sources.leg_length(_with_nan(J, (joint("left_hand"),))), lambda v: np.isfinite(v) and v > 0.5),
    raises(R + "retarget", "source leg length 0", lambda: sources.retarget(
        sources.cmu_source_motion(_skeleton(), _amc_motion()), _cmu_calibration(), 0.0), ValueError,
        "source_leg_length must be a finite number > 0"),
    raises(R + "retarget", "source leg length NaN", lambda: sources.retarget(
        sources.cmu_source_motion(_skeleton(), _amc_motion()), _cmu_calibration(), NAN), ValueError, "source_leg_length"),
    raises(R + "retarget", "source is an AMC motion", lambda: sources.retarget(_amc_motion(), _cmu_calibration(), 0.9),
           TypeError, "source must be a SourceMotion"),
    raises(R + "retarget", "calibration is rest joints", lambda: sources.retarget(
        sources.cmu_source_motion(_skeleton(), _amc_motion()), J, 0.9), TypeError, "calibration must be a Calibration"),
    raises(R + "load_cmu_clip", "missing AMC", lambda: sources.load_cmu_clip(_asf(), _tmp() / "01_01.amc"), FileNotFoundError,
           r"AMC file .*01_01\.amc does not exist"),
    raises(R + "load_cmu_clip", "files swapped", lambda: sources.load_cmu_clip(_amc(), _asf()), AsfAmcFormatError,
           r"s\.amc, line \d+: no :bonedata"),
    raises(R + "load_cmu_clip", "not a CMU skeleton", lambda: sources.load_cmu_clip(_file("tiny.asf", TINY_ASF),
                                                                                   _file("t.amc", "1\nroot 0 0 0 0 0 0\narm 0 0 0\n")),
           ValueError, "is not a CMU"),
    returns(R + "load_cmu_clip", "valid files", lambda: sources.load_cmu_clip(_asf(), _amc()),
            lambda r: r[1].driver_rotations.shape == (3, 24, 3, 3)),
]

# --------------------------------------------------------------------------- retarget

R = "humanlib.data.retarget."
CASES += [
    raises(R + "calibration_segment", "unknown joint", lambda: retarget.calibration_segment("tail"), ValueError,
           "name must be an SMPL joint name; got 'tail'"),
    raises(R + "calibration_segment", "child_override to an unknown joint", lambda: retarget.calibration_segment(
        "spine1", {"spine1": "spine4"}), ValueError, r"child_override\['spine1'\] must be an SMPL joint name; got 'spine4'"),
    raises(R + "calibration_segment", "child_override a list", lambda: retarget.calibration_segment("spine1", ["spine3"]),
           TypeError, "child_override must be a dict"),
    returns(R + "calibration_segment", "childless joint", lambda: retarget.calibration_segment("head"), lambda r: r is None),
    raises(R + "rest_bone_directions", "rest joints (24, 2)", lambda: retarget.rest_bone_directions(np.zeros((24, 2))),
           ValueError, r"rest_joints must have shape \(24, 3\); got \(24, 2\)"),
    raises(R + "rest_bone_directions", "all joints at the origin", lambda: retarget.rest_bone_directions(np.zeros((24, 3))),
           ValueError, r"rest_joints: the segments that calibrate \['pelvis', .*zero length"),
    raises(R + "rest_bone_directions", "NaN", lambda: retarget.rest_bone_directions(_with_nan(J)), ValueError,
           "rest_joints contains 1 non-finite"),
    raises(R + "rest_bone_directions", "a tensor", lambda: retarget.rest_bone_directions(torch.zeros(24, 3)), TypeError,
           r"\.numpy\(\)"),
    returns(R + "rest_bone_directions", "a list of lists is fine", lambda: retarget.rest_bone_directions(J.tolist()),
            lambda d: np.allclose(np.linalg.norm(d, axis=1), 1.0)),
    raises(R + "calibrate", "reference_rotations (22, 3, 3)", lambda: retarget.calibrate(**_calibrate_args(
        reference_rotations=np.zeros((22, 3, 3)))), ValueError, r"reference_rotations must have shape \(24, 3, 3\)"),
    raises(R + "calibrate", "reference_segments NaN", lambda: retarget.calibrate(**_calibrate_args(
        reference_segments=_with_nan(np.ones((24, 3))))), ValueError, "reference_segments contains 1 non-finite"),
    raises(R + "calibrate", "driven as floats", lambda: retarget.calibrate(**_calibrate_args(driven=np.ones(24))), ValueError,
           r"driven must be a \(24,\) bool array"),
    raises(R + "calibrate", "zero reference segment", lambda: retarget.calibrate(**_calibrate_args(
        reference_segments=np.zeros((24, 3)))), ValueError, r"reference_segments of the driven joints \['pelvis'"),
    raises(R + "calibrate", "twist_axes without twist_references", lambda: retarget.calibrate(**_calibrate_args(
        twist_axes=np.zeros((24, 3, 3)))), ValueError, "give both twist_axes and twist_references"),
    raises(R + "calibrate", "twist_references (24, 2)", lambda: retarget.calibrate(**_calibrate_args(
        twist_axes=np.zeros((24, 3, 3)), twist_references=np.zeros((24, 2)))), ValueError,
        r"twist_references must have shape \(24, 3\)"),
    raises(R + "calibrate", "rest_joints wrong", lambda: retarget.calibrate(**_calibrate_args(rest_joints=J[:, :2])),
           ValueError, r"rest_joints must have shape \(24, 3\)"),
    raises(R + "global_to_local", "22 joints", lambda: retarget.global_to_local(np.zeros((2, 22, 3, 3))), ValueError,
           r"global_rotations must have shape \(\.\.\., 24, 3, 3\)"),
    raises(R + "global_to_local", "a tensor", lambda: retarget.global_to_local(torch.zeros(2, 24, 3, 3)), TypeError,
           r"\.numpy\(\)"),
    returns(R + "global_to_local", "empty batch", lambda: retarget.global_to_local(np.zeros((0, 24, 3, 3))),
            lambda r: r.shape == (0, 24, 3, 3)),
    raises(R + "retarget_rotations", "calibration a dict", lambda: retarget.retarget_rotations(_rotmats(), {"frames": 0}),
           TypeError, r"calibration must be a Calibration \(from calibrate\)"),
    raises(R + "retarget_rotations", "(T, 24, 9)", lambda: retarget.retarget_rotations(np.zeros((2, 24, 9)), _cmu_calibration()),
           ValueError, r"driver_rotations must have shape \(T, 24, 3, 3\); got \(2, 24, 9\)"),
    raises(R + "retarget_rotations", "NaN in a driven joint", lambda: retarget.retarget_rotations(
        _with_nan(_rotmats(), (0, 1)), _cmu_calibration()), ValueError, "NaN or inf in a driven joint"),
    returns(R + "retarget_rotations", "NaN in an undriven joint is ignored", lambda: retarget.retarget_rotations(
        _with_nan(_rotmats(), (0, joint("left_hand"))), _cmu_calibration()), lambda r: np.isfinite(r).all()),
    raises(R + "smpl_forward_kinematics", "local_rotations (T, 24, 3)", lambda: retarget.smpl_forward_kinematics(
        np.zeros((2, 24, 3)), J), ValueError, r"local_rotations must have shape \(T, 24, 3, 3\); got \(2, 24, 3\)"),
    raises(R + "smpl_forward_kinematics", "rest_joints (23, 3)", lambda: retarget.smpl_forward_kinematics(_rotmats(), J[:23]),
           ValueError, r"rest_joints must have shape \(24, 3\)"),
    raises(R + "smpl_forward_kinematics", "transl of other length", lambda: retarget.smpl_forward_kinematics(
        _rotmats(2), J, np.zeros((3, 3))), ValueError, r"transl must have shape \(2, 3\) \(one row per frame"),
    raises(R + "smpl_forward_kinematics", "transl (3,)", lambda: retarget.smpl_forward_kinematics(_rotmats(2), J, np.zeros(3)),
           ValueError, r"transl must have shape \(T, 3\)"),
    raises(R + "smpl_forward_kinematics", "NaN rotations", lambda: retarget.smpl_forward_kinematics(_with_nan(_rotmats()), J),
           ValueError, "local_rotations contains 1 non-finite"),
    raises(R + "smpl_forward_kinematics", "tensor input", lambda: retarget.smpl_forward_kinematics(torch.zeros(2, 24, 3, 3), J),
           TypeError, r"local_rotations must be a numpy array .*\.numpy\(\)"),
    returns(R + "smpl_forward_kinematics", "empty batch", lambda: retarget.smpl_forward_kinematics(np.zeros((0, 24, 3, 3)), J),
            lambda r: r[0].shape == (0, 24, 3, 3) and r[1].shape == (0, 24, 3)),
    raises(R + "rotmat_to_axis_angle_np", "(..., 3, 4)", lambda: retarget.rotmat_to_axis_angle_np(np.zeros((2, 3, 4))),
           ValueError, r"R must have shape \(\.\.\., 3, 3\); got \(2, 3, 4\)"),
    raises(R + "rotmat_to_axis_angle_np", "NaN", lambda: retarget.rotmat_to_axis_angle_np(_with_nan(_rotmats())), ValueError,
           "R contains 1 non-finite"),
    raises(R + "rotmat_to_axis_angle_np", "zero matrix", lambda: retarget.rotmat_to_axis_angle_np(np.zeros((2, 3, 3))),
           ValueError, r"R holds a matrix that is not a rotation \(determinant 0"),
    raises(R + "rotmat_to_axis_angle_np", "a reflection", lambda: retarget.rotmat_to_axis_angle_np(np.diag([-1.0, 1.0, 1.0])),
           ValueError, r"not a rotation \(determinant -1"),
    raises(R + "rotmat_to_axis_angle_np", "a tensor", lambda: retarget.rotmat_to_axis_angle_np(torch.eye(3)), TypeError,
           r"\.numpy\(\)"),
    raises(R + "rotmat_to_axis_angle_np", "a string array", lambda: retarget.rotmat_to_axis_angle_np(np.full((3, 3), "a")),
           ValueError, "R must be numeric"),
    returns(R + "rotmat_to_axis_angle_np", "empty batch", lambda: retarget.rotmat_to_axis_angle_np(np.zeros((0, 24, 3, 3))),
            lambda r: r.shape == (0, 24, 3)),
    raises(R + "axis_angle_to_rotmat_np", "(..., 4)", lambda: retarget.axis_angle_to_rotmat_np(np.zeros((2, 4))), ValueError,
           r"aa must have shape \(\.\.\., 3\); got \(2, 4\)"),
    raises(R + "axis_angle_to_rotmat_np", "inf", lambda: retarget.axis_angle_to_rotmat_np(np.array([INF, 0.0, 0.0])), ValueError,
           "aa contains 1 non-finite"),
    raises(R + "axis_angle_to_rotmat_np", "a tensor", lambda: retarget.axis_angle_to_rotmat_np(torch.zeros(3)), TypeError,
           r"\.numpy\(\)"),
    raises(R + "axis_angle_to_rotmat_np", "a ragged list", lambda: retarget.axis_angle_to_rotmat_np([[0, 0, 0], [0, 0]]),
           TypeError, "not a rectangular list of numbers"),
    returns(R + "axis_angle_to_rotmat_np", "a list", lambda: retarget.axis_angle_to_rotmat_np([0.0, 0.0, 0.0]),
            lambda r: np.allclose(r, np.eye(3))),
    returns(R + "axis_angle_to_rotmat_np", "empty batch", lambda: retarget.axis_angle_to_rotmat_np(np.zeros((0, 3))),
            lambda r: r.shape == (0, 3, 3)),
    raises(R + "resample_motion", "src_fps 0", lambda: retarget.resample_motion(_rotmats(), np.zeros((2, 3)), 0, 30.0),
           ValueError, "src_fps must be a finite number > 0"),
    raises(R + "resample_motion", "dst_fps NaN", lambda: retarget.resample_motion(_rotmats(), np.zeros((2, 3)), 30.0, NAN),
           ValueError, "dst_fps must be a finite number > 0"),
    raises(R + "resample_motion", "fps a string", lambda: retarget.resample_motion(_rotmats(), np.zeros((2, 3)), "30", 10.0),
           TypeError, "src_fps must be a number"),
    raises(R + "resample_motion", "transl of other length", lambda: retarget.resample_motion(_rotmats(2), np.zeros((3, 3)), 30.0, 10.0),
           ValueError, r"transl must have shape \(2, 3\)"),
    raises(R + "resample_motion", "axis-angle instead of matrices", lambda: retarget.resample_motion(
        np.zeros((2, 24, 3)), np.zeros((2, 3)), 30.0, 10.0), ValueError, r"local_rotations must have shape \(T, J, 3, 3\)"),
    raises(R + "resample_motion", "NaN translation", lambda: retarget.resample_motion(
        _rotmats(2), _with_nan(np.zeros((2, 3))), 30.0, 20.0), ValueError, "transl contains 1 non-finite"),
    raises(R + "resample_motion", "zero matrices at a fractional ratio", lambda: retarget.resample_motion(
        np.zeros((3, 2, 3, 3)), np.zeros((3, 3)), 25.0, 30.0), ValueError,
        r"local_rotations holds a matrix that is not a rotation \(determinant 0"),
    returns(R + "resample_motion", "upsampling whose last time rounds past the end (scipy raised before)",
            lambda: retarget.resample_motion(_rotmats(8), np.zeros((8, 3)), 10.0, 50.0),
            lambda r: r[0].shape == (36, 24, 3, 3) and np.isfinite(r[0]).all()),
    returns(R + "resample_motion", "an empty motion stays empty", lambda: retarget.resample_motion(
        np.zeros((0, 24, 3, 3)), np.zeros((0, 3)), 120.0, 50.0), lambda r: r[0].shape == (0, 24, 3, 3) and r[1].shape == (0, 3)),
    returns(R + "resample_motion", "one frame at a fractional ratio stays one frame", lambda: retarget.resample_motion(
        _rotmats(1), np.zeros((1, 3)), 25.0, 30.0), lambda r: r[0].shape == (1, 24, 3, 3) and r[1].shape == (1, 3)),
    raises(R + "mirror_body_pose", "24-joint pose", lambda: retarget.mirror_body_pose(torch.zeros(2, 24, 3)), ValueError,
           "body_pose"),
    raises(R + "mirror_body_pose", "numpy pose", lambda: retarget.mirror_body_pose(np.zeros((2, 21, 3))), TypeError,
           "body_pose"),
    returns(R + "mirror_body_pose", "empty batch", lambda: retarget.mirror_body_pose(torch.zeros(0, 21, 3)),
            lambda r: r.shape == (0, 21, 3)),
    raises(R + "mirror_poses", "a list", lambda: retarget.mirror_poses([[0.0] * 3] * 24), TypeError,
           "poses must be a numpy array or torch tensor"),
    raises(R + "mirror_poses", "(B, 21, 3)", lambda: retarget.mirror_poses(np.zeros((2, 21, 3))), ValueError,
           r"poses must have shape \(\.\.\., 24, 3\)"),
    raises(R + "mirror_poses", "integer poses", lambda: retarget.mirror_poses(np.zeros((2, 24, 3), dtype=int)), ValueError,
           "poses must be floating point"),
    raises(R + "mirror_poses", "transl of another batch", lambda: retarget.mirror_poses(np.zeros((2, 24, 3)), np.zeros((3, 3))),
           ValueError, r"transl must have shape \(2, 3\)"),
    raises(R + "mirror_poses", "numpy poses with a tensor transl", lambda: retarget.mirror_poses(
        np.zeros((2, 24, 3)), torch.zeros(2, 3)), TypeError, r"transl must be of the same kind as poses \(ndarray\)"),
    returns(R + "mirror_poses", "NaN stays NaN (elementwise)", lambda: retarget.mirror_poses(_with_nan(np.zeros((1, 24, 3)), (0, 0))),
            lambda r: np.isnan(r[0][0, 0, 0]) and np.isfinite(r[0][0, 1:]).all()),
    returns(R + "mirror_poses", "empty batch", lambda: retarget.mirror_poses(torch.zeros(0, 24, 3), torch.zeros(0, 3)),
            lambda r: r[0].shape == (0, 24, 3) and r[1].shape == (0, 3)),
    returns(R + "mirror_poses", "meta tensors stay on their device", lambda: retarget.mirror_poses(
        torch.zeros(2, 24, 3, device="meta"), torch.zeros(2, 3, device="meta")),
        lambda r: r[0].device.type == "meta" and r[1].shape == (2, 3)),
    raises(R + "direction_errors_deg", "different frame counts", lambda: retarget.direction_errors_deg(
        _fk_joints(3), _fk_joints(4), [(0, 1)]), ValueError, "same number of frames; got 3 and 4"),
    raises(R + "direction_errors_deg", "bone index 24", lambda: retarget.direction_errors_deg(
        _fk_joints(), _fk_joints(), [(0, 24)]), ValueError, r"bones must be \(start, end\) pairs of SMPL joint indices 0\.\.23"),
    raises(R + "direction_errors_deg", "joint names as bones", lambda: retarget.direction_errors_deg(
        _fk_joints(), _fk_joints(), [("pelvis", "spine1")]), ValueError, "bones must be"),
    raises(R + "direction_errors_deg", "(T, 22, 3) joints", lambda: retarget.direction_errors_deg(
        _fk_joints()[:, :22], _fk_joints(), [(0, 1)]), ValueError, r"source_points must have shape \(T, 24, 3\)"),
    returns(R + "direction_errors_deg", "no bones: (T, 0)", lambda: retarget.direction_errors_deg(_fk_joints(), _fk_joints(), []),
            lambda r: r.shape == (4, 0)),
]

# --------------------------------------------------------------------------- synthetic writers

R = "humanlib.data.synthetic."
CASES += [
    raises(R + "write_smpl_as_bvh", "poses (T, 72)", lambda: synthetic.write_smpl_as_bvh(
        _tmp() / "o.bvh", np.zeros((2, 72)), np.zeros((2, 3)), J), ValueError, r"poses must have shape \(T, 24, 3\); got \(2, 72\)"),
    raises(R + "write_smpl_as_bvh", "empty motion", lambda: synthetic.write_smpl_as_bvh(
        _tmp() / "o.bvh", np.zeros((0, 24, 3)), np.zeros((0, 3)), J), ValueError, r"poses is empty"),
    raises(R + "write_smpl_as_bvh", "transl of other length", lambda: synthetic.write_smpl_as_bvh(
        _tmp() / "o.bvh", np.zeros((2, 24, 3)), np.zeros((1, 3)), J), ValueError, r"transl must have shape \(2, 3\)"),
    raises(R + "write_smpl_as_bvh", "NaN pose", lambda: synthetic.write_smpl_as_bvh(
        _tmp() / "o.bvh", _with_nan(np.zeros((2, 24, 3))), np.zeros((2, 3)), J), ValueError, "poses contains 1 non-finite"),
    raises(R + "write_smpl_as_bvh", "tensor poses", lambda: synthetic.write_smpl_as_bvh(
        _tmp() / "o.bvh", torch.zeros(2, 24, 3), np.zeros((2, 3)), J), TypeError, r"poses must be a numpy array .*\.numpy\(\)"),
    raises(R + "write_smpl_as_bvh", "fps 0", lambda: synthetic.write_smpl_as_bvh(
        _tmp() / "o.bvh", *_motion(2), J, fps=0), ValueError, "fps must be a finite number > 0"),
    raises(R + "write_smpl_as_bvh", "unit negative", lambda: synthetic.write_smpl_as_bvh(
        _tmp() / "o.bvh", *_motion(2), J, unit=-0.01), ValueError, "unit must be a finite number > 0"),
    raises(R + "write_smpl_as_bvh", "missing folder", lambda: synthetic.write_smpl_as_bvh(
        _tmp() / "no" / "o.bvh", *_motion(2), J), FileNotFoundError, r"cannot write path .*folder .*no does not exist"),
    raises(R + "write_smpl_as_bvh", "path is a folder", lambda: synthetic.write_smpl_as_bvh(_tmp(), *_motion(2), J),
           IsADirectoryError, "it is a folder; give a file name"),
    raises(R + "write_smpl_as_bvh", "rest joints (22, 3)", lambda: synthetic.write_smpl_as_bvh(
        _tmp() / "o.bvh", *_motion(2), J[:22]), ValueError, r"rest_joints must have shape \(24, 3\)"),
    raises(R + "write_smpl_as_asf_amc", "poses (T, 22, 3)", lambda: synthetic.write_smpl_as_asf_amc(
        _tmp() / "s.asf", _tmp() / "s.amc", np.zeros((2, 22, 3)), np.zeros((2, 3)), J), ValueError,
        r"poses must have shape \(T, 24, 3\)"),
    raises(R + "write_smpl_as_asf_amc", "length_scale 0", lambda: synthetic.write_smpl_as_asf_amc(
        _tmp() / "s.asf", _tmp() / "s.amc", *_motion(2), J, length_scale=0), ValueError, "length_scale must be a finite number > 0"),
    raises(R + "write_smpl_as_asf_amc", "seed -1", lambda: synthetic.write_smpl_as_asf_amc(
        _tmp() / "s.asf", _tmp() / "s.amc", *_motion(2), J, seed=-1), ValueError, "seed must be a finite integer >= 0"),
    raises(R + "write_smpl_as_asf_amc", "seed 0.5", lambda: synthetic.write_smpl_as_asf_amc(
        _tmp() / "s.asf", _tmp() / "s.amc", *_motion(2), J, seed=0.5), TypeError, "seed must be an integer"),
    raises(R + "write_smpl_as_asf_amc", "amc_path None", lambda: synthetic.write_smpl_as_asf_amc(
        _tmp() / "s.asf", None, *_motion(2), J), TypeError, "amc_path must be a str or Path"),
    raises(R + "write_smpl_as_asf_amc", "inf translation", lambda: synthetic.write_smpl_as_asf_amc(
        _tmp() / "s.asf", _tmp() / "s.amc", np.zeros((2, 24, 3)), np.full((2, 3), INF), J), ValueError,
        "transl contains 6 non-finite"),
]

# --------------------------------------------------------------------------- figures, readme

R = "humanlib.data.figures."
CASES += [
    raises(R + "skeleton_animation", "(T, 22, 3)", lambda: figures.skeleton_animation(np.zeros((3, 22, 3)), 10.0), ValueError,
           r"joints must have shape \(T, 24, 3\); got \(3, 22, 3\)"),
    raises(R + "skeleton_animation", "no frames", lambda: figures.skeleton_animation(np.zeros((0, 24, 3)), 10.0), ValueError,
           "joints is empty"),
    raises(R + "skeleton_animation", "NaN joints", lambda: figures.skeleton_animation(_with_nan(_fk_joints()), 10.0), ValueError,
           "joints contains 1 non-finite"),
    raises(R + "skeleton_animation", "tensor joints", lambda: figures.skeleton_animation(torch.zeros(3, 24, 3), 10.0), TypeError,
           r"\.numpy\(\)"),
    raises(R + "skeleton_animation", "fps 0", lambda: figures.skeleton_animation(_fk_joints(), 0.0), ValueError,
           "fps must be a finite number > 0"),
    raises(R + "skeleton_animation", "max_frames 0", lambda: figures.skeleton_animation(_fk_joints(), 10.0, max_frames=0),
           ValueError, "max_frames must be a finite integer > 0"),
    raises(R + "skeleton_animation", "title not a string", lambda: figures.skeleton_animation(_fk_joints(), 10.0, title=3),
           TypeError, "title must be a string"),
    returns(R + "skeleton_animation", "a single frame", lambda: figures.skeleton_animation(_fk_joints(1), 10.0),
            lambda f: len(f.frames) == 1),
    raises(R + "draw_skeleton", "(T, 24, 3) joints", lambda: figures.draw_skeleton(_ax(), _fk_joints()), ValueError,
           r"joints must have shape \(24, 3\); got \(4, 24, 3\)"),
    raises(R + "draw_skeleton", "view 'top'", lambda: figures.draw_skeleton(_ax(), J, view="top"), ValueError,
           r"view must be one of \('front', 'side'\); got 'top'"),
    raises(R + "draw_skeleton", "no axis", lambda: figures.draw_skeleton(None, J), TypeError, "ax must be a matplotlib Axes"),
    raises(R + "draw_skeleton", "NaN joints", lambda: figures.draw_skeleton(_ax(), _with_nan(J)), ValueError, "joints contains"),
    raises(R + "draw_mesh", "face index past the vertices", lambda: figures.draw_mesh(
        _ax(), np.eye(3), np.array([[0, 1, 3]])), ValueError, r"faces must index vertices 0\.\.2; got indices 0\.\.3"),
    raises(R + "draw_mesh", "float faces", lambda: figures.draw_mesh(_ax(), np.eye(3), np.array([[0.0, 1.0, 2.0]])),
           ValueError, r"faces must hold integers \(indices\)"),
    raises(R + "draw_mesh", "no faces", lambda: figures.draw_mesh(_ax(), np.eye(3), np.zeros((0, 3), int)), ValueError,
           "faces is empty"),
    raises(R + "draw_mesh", "vertices (V, 2)", lambda: figures.draw_mesh(_ax(), np.zeros((3, 2)), np.array([[0, 1, 2]])),
           ValueError, r"vertices must have shape \(V, 3\)"),
    raises(R + "draw_mesh", "view 'back'", lambda: figures.draw_mesh(_ax(), np.eye(3), np.array([[0, 1, 2]]), view="back"),
           ValueError, "view must be one of"),
    raises(R + "draw_mesh", "color out of range", lambda: figures.draw_mesh(_ax(), np.eye(3), np.array([[0, 1, 2]]),
                                                                           color=(200, 180, 160)),
           ValueError, r"color must be three numbers in \[0, 1\]"),
    raises(R + "draw_mesh", "no axis", lambda: figures.draw_mesh("ax", np.eye(3), np.array([[0, 1, 2]])), TypeError,
           "ax must be a matplotlib Axes"),
    raises("humanlib.data.readme.corpus_readme", "report without counts", lambda: readme.corpus_readme(
        {"split_fps": {}, "split_rules": {}}, {}), ValueError, r"report lacks the keys \['counts'"),
    raises("humanlib.data.readme.corpus_readme", "manifest a path", lambda: readme.corpus_readme("manifest.json", {}),
           TypeError, "manifest must be a dict"),
    returns("humanlib.data.readme.corpus_readme", "the committed corpus's files", lambda: readme.corpus_readme(
        json.loads((corpus.default_corpus_dir() / corpus.MANIFEST).read_text()), corpus.load_report()),
        lambda text: text.startswith("# The open motion corpus")),
]

_RECORD = "result record built by {}, never from user input"
EXEMPT = {
    "humanlib.data.bvh.BvhMotion": _RECORD.format("read_bvh"),
    "humanlib.data.bvh.SkeletonPose": _RECORD.format("bvh_forward_kinematics"),
    "humanlib.data.asf_amc.AsfBone": _RECORD.format("read_asf"),
    "humanlib.data.asf_amc.AsfSkeleton": _RECORD.format("read_asf"),
    "humanlib.data.asf_amc.AmcMotion": _RECORD.format("read_amc"),
    "humanlib.data.asf_amc.AsfPose": _RECORD.format("amc_forward_kinematics"),
    "humanlib.data.amass.AmassMotion": _RECORD.format("load_amass_npz"),
    "humanlib.data.corpus.ClipInfo": _RECORD.format("load_corpus (and the corpus build)"),
    "humanlib.data.corpus.MotionCorpus": _RECORD.format("load_corpus"),
    "humanlib.data.corpus.MotionCorpus.activities": "takes no arguments; sums the corpus's own clip lengths",
    "humanlib.data.corpus.default_corpus_dir": "takes no arguments; returns the committed corpus folder",
    "humanlib.data.retarget.Calibration": _RECORD.format("calibrate"),
    "humanlib.data.retarget.placeholder_rest_joints": "takes no arguments; returns fixed joint positions",
    "humanlib.data.retarget.target_rest_joints": "takes no arguments; falls back to the placeholder when the body model fails",
    "humanlib.data.sources.SourceMotion": _RECORD.format("cmu_source_motion / bandai_source_motion"),
    "humanlib.data.sources.RetargetedMotion": _RECORD.format("retarget"),
}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input(case):
    run_case(case)


# --------------------------------------------------------------------------- properties


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_any_damaged_bvh_parses_or_names_file_and_line(data):
    """Delete, duplicate or overwrite lines of a valid BVH: it parses, or BvhFormatError names file and line."""
    lines = _bvh_lines()
    i = data.draw(st.integers(0, len(lines) - 1))
    kind = data.draw(st.sampled_from(["delete", "duplicate", "junk", "cut"]))
    junk = data.draw(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12))
    edited = {"delete": lines[:i] + lines[i + 1:], "duplicate": lines[:i + 1] + lines[i:],
              "junk": lines[:i] + [junk] + lines[i + 1:], "cut": lines[:i]}[kind]
    path = _bvh("\n".join(edited) + "\n", "damaged.bvh")
    try:
        m = bvh.read_bvh(path)
    except BvhFormatError as err:
        assert re.match(rf"{re.escape(str(path))}, line \d+: ", str(err)), str(err)
    else:
        assert np.isfinite(m.frames).all() and m.num_frames >= 1 and m.frames.shape[1] == sum(map(len, m.channels))


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_any_damaged_amc_parses_or_names_file_and_line(data):
    """Delete, duplicate or overwrite lines of a valid AMC: it parses, or AsfAmcFormatError names file and line."""
    lines = _amc_lines()
    i = data.draw(st.integers(0, len(lines) - 1))
    kind = data.draw(st.sampled_from(["delete", "duplicate", "junk", "cut"]))
    junk = data.draw(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12))
    edited = {"delete": lines[:i] + lines[i + 1:], "duplicate": lines[:i + 1] + lines[i:],
              "junk": lines[:i] + [junk] + lines[i + 1:], "cut": lines[:i]}[kind]
    path = _amc("\n".join(edited) + "\n", "damaged.amc")
    try:
        m = asf_amc.read_amc(path, _skeleton())
    except AsfAmcFormatError as err:
        assert re.match(rf"{re.escape(str(path))}, line \d+: ", str(err)), str(err)
    else:
        assert m.num_frames >= 1 and all(np.isfinite(v).all() and len(v) == m.num_frames for v in m.values.values())


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 60), st.sampled_from(["delete", "junk", "cut"]), st.sampled_from(["x", "1e999", "nan", "-3", "begin"]))
def test_any_damaged_asf_parses_or_names_file_and_line(i, kind, junk):
    lines = _asf_amc_text()[0].splitlines()
    i = min(i, len(lines) - 1)
    edited = {"delete": lines[:i] + lines[i + 1:], "junk": lines[:i] + [lines[i] + " " + junk] + lines[i + 1:],
              "cut": lines[:i]}[kind]
    path = _asf("\n".join(edited) + "\n", "damaged.asf")
    try:
        skel = asf_amc.read_asf(path)
    except AsfAmcFormatError as err:
        assert re.match(rf"{re.escape(str(path))}, line \d+: ", str(err)), str(err)
    else:
        pose = asf_amc.amc_forward_kinematics(skel)
        assert np.isfinite(pose.ends).all()


def _flip_bytes(content: bytes, flips: list[tuple[float, int]]) -> bytes:
    b = bytearray(content)
    for where, value in flips:
        b[int(where * (len(b) - 1))] = value
    return bytes(b)


_FLIPS = st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), min_size=1, max_size=4)


@settings(max_examples=25, deadline=None)
@given(_FLIPS)
def test_damaged_amass_file_gives_amass_format_error(flips):
    """A few bytes of a valid AMASS .npz overwritten: it loads, or AmassFormatError names the file."""
    path = _file("flipped.npz", _flip_bytes(_amass().read_bytes(), flips))
    try:
        m = amass.load_amass_npz(path)
    except AmassFormatError as err:
        assert str(err).startswith(f"{path}: "), str(err)
    else:
        assert m.poses.shape == (4, 24, 3) and np.isfinite(m.poses).all()


@settings(max_examples=25, deadline=None)
@given(_FLIPS)
def test_damaged_corpus_shard_gives_corpus_error(flips):
    """A few bytes of a corpus shard overwritten: it loads, or CorpusError names the shard and the rebuild."""
    folder = _corpus()
    shard = folder / "train-cmu-00.npz"
    shard.write_bytes(_flip_bytes(shard.read_bytes(), flips))
    try:
        c = corpus.load_corpus("train", folder, use_amass=False)
    except CorpusError as err:
        assert "train-cmu-00.npz" in str(err) and "humanlib build-corpus" in str(err), str(err)
    else:
        assert c.poses.shape == (5, 24, 3) and torch.isfinite(c.poses).all()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-3.0, 3.0), min_size=3, max_size=3).filter(lambda v: 1e-6 < np.linalg.norm(v) < np.pi - 1e-3))
def test_axis_angle_round_trip_numpy(v):
    """axis-angle -> rotmat -> axis-angle gives the input back (angle below pi), never NaN."""
    aa = np.asarray(v)
    back = retarget.rotmat_to_axis_angle_np(retarget.axis_angle_to_rotmat_np(aa))
    assert np.isfinite(back).all() and np.allclose(back, aa, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 12), st.sampled_from([10.0, 24.0, 25.0, 30.0, 60.0, 120.0]), st.sampled_from([10.0, 30.0, 50.0]))
def test_resample_any_length_and_rates_is_finite(T, src, dst):
    """Any motion length (including 0 and 1) and any pair of rates: finite rotations, matching lengths."""
    R, tr = retarget.resample_motion(_rotmats(T), np.zeros((T, 3)), src, dst)
    assert len(R) == len(tr) and np.isfinite(R).all() and np.isfinite(tr).all()
    assert (T == 0) == (len(R) == 0)
    assert np.allclose(R @ np.swapaxes(R, -1, -2), np.eye(3), atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=5).filter(lambda s: len(s) != 4 or s[1:] != [24, 3, 3]))
def test_fk_random_wrong_shapes_name_the_argument(shape):
    with pytest.raises(ValueError, match=r"local_rotations must have shape \(T, 24, 3, 3\)"):
        retarget.smpl_forward_kinematics(np.zeros(shape), J)


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["bvh", "asf", "amc", "npz"]))
def test_random_bytes_give_the_format_error_of_the_reader(content, kind):
    """Any bytes at all: each reader raises its own format error naming the file (never a crash inside)."""
    path = _file(f"random.{kind}", content)
    readers = {"bvh": (bvh.read_bvh, BvhFormatError), "asf": (asf_amc.read_asf, AsfAmcFormatError),
               "amc": (lambda p: asf_amc.read_amc(p, _skeleton()), AsfAmcFormatError),
               "npz": (amass.load_amass_npz, AmassFormatError)}
    read, error = readers[kind]
    with pytest.raises(error, match=re.escape(str(path))):
        read(path)
