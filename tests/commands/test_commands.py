"""Bad arguments to every ``humanlib`` command: a non-zero exit and one line ``humanlib: error: ...``.

Each case is what a user might type wrong (a missing or corrupt input file, a folder where a
file is expected, a zero or negative size, an unknown prior, an output folder that is a file,
a device the machine does not have). Every case must fail before any work starts, in-process
and in well under a second, with exactly one line on stderr naming the problem: no traceback,
no argparse usage dump. ``test_every_command_has_a_bad_argument_case`` fails when a new
command is registered without a case here.

Commands whose default output is a committed asset (``build-body-model``, ``build-corpus``,
``train-gmm``) always get an ``--out`` in a temporary folder, so a case that stopped failing
could never overwrite the course's files.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

from humanlib import cli

# --------------------------------------------------------------------------- files the cases use

_TMP = Path(tempfile.mkdtemp(prefix="humanlib-cli-bad-"))
MISSING = str(_TMP / "does-not-exist.npz")
FOLDER = _TMP / "a-folder"
FOLDER.mkdir()
FILE = _TMP / "a-file"
FILE.write_text("not a folder")
CORRUPT = _TMP / "corrupt.npz"
CORRUPT.write_bytes(b"PK\x03\x04 truncated zip, garbage after the magic bytes")
CORRUPT_JSON = _TMP / "corrupt.json"
CORRUPT_JSON.write_text("{ this is not json")
OUT = str(_TMP / "out")  # a folder that does not exist yet (never written: every case fails first)


def _npz(name: str, **arrays) -> str:
    path = _TMP / name
    np.savez(path, **arrays)
    return str(path)


KEYPOINTS = _npz("kp.npz", keypoints=np.full((2, 24, 2), 320.0))
KP_SHAPE = _npz("kp_shape.npz", keypoints=np.zeros((2, 17, 2)))
KP_NAN = _npz("kp_nan.npz", keypoints=np.where(np.eye(24, 2)[None] > 0, np.nan, 1.0).repeat(2, 0))
KP_NO_KEY = _npz("kp_nokey.npz", points=np.zeros((2, 24, 2)))
KP_CONF = _npz("kp_conf.npz", keypoints=np.zeros((2, 24, 2)), confidence=np.ones((2, 23)))
KP_EMPTY = _npz("kp_empty.npz", keypoints=np.zeros((0, 24, 2)))
KP_OPENPOSE = _npz("kp_openpose.npz", keypoints=np.full((2, 118, 2), 320.0))
KP_OPENPOSE_CONF = _npz("kp_openpose_conf.npz", keypoints=np.full((2, 67, 2), 320.0), confidence=np.ones((2, 24)))
MOTION = _npz("motion.npz", poses=np.zeros((10, 72)), trans=np.zeros((10, 3)), mocap_framerate=np.array(30.0))
MOTION_BAD_WIDTH = _npz("motion_bad.npz", poses=np.zeros((10, 50)), mocap_framerate=np.array(30.0))
MOTION_NO_RATE = _npz("motion_norate.npz", poses=np.zeros((10, 72)))
def _amass_like(name: str, rates: tuple[float, ...], frames: int = 10) -> str:
    """A folder of AMASS-layout files, one per frame rate."""
    folder = _TMP / name / "sub"
    folder.mkdir(parents=True)
    for k, rate in enumerate(rates):
        np.savez(folder / f"c{k}_poses.npz", poses=np.zeros((frames, 72)), trans=np.zeros((frames, 3)),
                 mocap_framerate=np.array(rate))
    return str(folder.parent)


MIXED_RATES = _amass_like("mixed", (30.0, 60.0))
SHORT_CLIPS = _amass_like("short", (30.0,), frames=10)
#: A device this machine does not have.
NO_DEVICE = "cuda" if not torch.cuda.is_available() else f"cuda:{torch.cuda.device_count()}"

# --------------------------------------------------------------------------- the cases

#: (argv, regex the stderr line must match after "humanlib: error: ")
CASES: list[tuple[list[str], str]] = [
    # build-body-model (default --out: the package assets)
    (["build-body-model", "--out", OUT, "--num-betas", "0"], r"--num-betas: must be > 0, got 0"),
    (["build-body-model", "--out", OUT, "--samples", "-5"], r"--samples: must be > 0, got -5"),
    (["build-body-model", "--out", OUT, "--threads", "0"], r"--threads: must be > 0"),
    (["build-body-model", "--out", OUT, "--samples", "many"], r"--samples: .*'many'"),
    (["build-body-model", "--out", str(FILE)], r"--out .*a-file is a file, not a folder"),
    (["build-body-model", "--out", OUT, "--layout", "smplh"], r"--layout: invalid choice: 'smplh' \(choose from '?smpl'?, '?smplx'?\)"),
    # build-corpus (default --out: the committed corpus)
    (["build-corpus", "--out", OUT, "--raw", MISSING], r"raw mocap folder not found .*does-not-exist.npz.*pass --raw DIR"),
    (["build-corpus", "--out", OUT, "--raw", str(FILE)], r"raw mocap folder not found .*a-file"),
    (["build-corpus", "--raw", str(FOLDER), "--out", str(FILE)], r"--out .*a-file is a file, not a folder"),
    (["build-corpus", "--out", OUT, "--max-clips", "0"], r"--max-clips: must be > 0"),
    (["build-corpus", "--max-clips", "2"], r"--max-clips .*give --out DIR too"),
    # retarget (a user's own mocap)
    (["retarget", MISSING, "--out", OUT], r"does-not-exist.npz does not exist; give a folder of .asf/.amc or .bvh"),
    (["retarget", str(FOLDER), "--out", OUT], r"no motion under .*a-folder: expected .asf \+ .amc files"),
    (["retarget", str(FILE), "--out", OUT], r"a-file: give a .bvh file or a folder"),
    (["retarget", str(FOLDER), "--out", OUT, "--fps", "0"], r"--fps: must be > 0"),
    (["retarget", str(FOLDER)], r"the following arguments are required: --out"),
    # train-gmm (default --out: the committed GMM)
    (["train-gmm", "--out", OUT + ".npz", "--components", "0"], r"--components: must be > 0"),
    (["train-gmm", "--out", OUT + ".npz", "--max-iter", "-1"], r"--max-iter: must be > 0"),
    (["train-gmm", "--out", OUT + ".npz", "--tol=-1e-3"], r"--tol: must be >= 0"),
    (["train-gmm", "--out", OUT + ".npz", "--reg-covar", "1e-3", "-1"], r"--reg-covar: must be >= 0"),
    (["train-gmm", "--out", OUT + ".npz", "--reg-covar", "nan"], r"--reg-covar: must be a finite number"),
    (["train-gmm", "--out", OUT + ".npz", "--max-frames", "0"], r"--max-frames: must be > 0"),
    (["train-gmm", "--out", str(FOLDER)], r"--out .*a-folder is a folder; give the path of the file"),
    # fit
    (["fit", MISSING, "--out", OUT + ".npz"], r"keypoint file .*does-not-exist.npz does not exist"),
    (["fit", str(FOLDER), "--out", OUT + ".npz"], r"folder .*a-folder holds no .npz keypoint files"),
    (["fit", str(CORRUPT), "--out", OUT + ".npz"], r"keypoint file .*corrupt.npz is not a readable .npz"),
    (["fit", KP_NO_KEY, "--out", OUT + ".npz"], r"has no 'keypoints'"),
    (["fit", KP_SHAPE, "--out", OUT + ".npz"], r"'keypoints' in .* must have shape \(B, 24, 2\).*got \(2, 17, 2\)"),
    (["fit", KP_NAN, "--out", OUT + ".npz"], r"'keypoints' in .* holds NaN or inf; give missing joints confidence 0"),
    (["fit", KP_CONF, "--out", OUT + ".npz"], r"'confidence' in .* must have shape \(B, 24\)"),
    (["fit", KP_EMPTY, "--out", OUT + ".npz"], r"holds no frames"),
    (["fit", KEYPOINTS, "--out", str(FOLDER)], r"--out .*a-folder is a folder"),
    (["fit", KEYPOINTS, "--out", str(FILE / "fit.npz")], r"--out .*a-file is a file, not a folder"),
    (["fit", KEYPOINTS, "--out", OUT + ".npz", "--focal", "0"], r"--focal: must be > 0"),
    (["fit", KEYPOINTS, "--out", OUT + ".npz", "--width", "-640"], r"--width: must be > 0"),
    (["fit", KEYPOINTS, "--out", OUT + ".npz", "--iterations", "0"], r"--iterations: must be > 0"),
    (["fit", KEYPOINTS, "--out", OUT + ".npz", "--prior", "gmm"], r"--prior: invalid choice: 'gmm'"),
    (["fit", KEYPOINTS, "--out", OUT + ".npz", "--device", NO_DEVICE], r"--device: .*cuda.*(not available|device)"),
    (["fit", KEYPOINTS, "--out", OUT + ".npz", "--device", "gpu0"], r"--device: unknown device 'gpu0'"),
    (["fit", "--out", OUT + ".npz"], r"the following arguments are required: keypoints"),
    (["fit", KP_OPENPOSE, "--out", OUT + ".npz", "--body-model", "smpl"],
     r"--body-model smpl fits SMPL's 24 joints but .* holds 118 OpenPose keypoints"),
    (["fit", KEYPOINTS, "--out", OUT + ".npz", "--body-model", "smplx"],
     r"--body-model smplx fits OpenPose keypoints \(25 body, 67 with hands, 118 with the face\) but .* holds 24"),
    (["fit", KP_OPENPOSE_CONF, "--out", OUT + ".npz"], r"'confidence' in .* must have shape \(B, 67\) \(OpenPose's body \+ hands\)"),
    (["fit", str(FOLDER), "--out", OUT, "--body-model", "smplx"], r"datasets are fitted with SMPL only so far"),
    (["fit", KP_OPENPOSE, "--out", OUT + ".npz", "--gender", "other"], r"--gender: invalid choice: 'other'"),
    (["experiment", "smplifyx-tables", "--frames", "0"], r"--frames: must be > 0"),
    (["experiment", "smplifyx-tables", "--frames", "3", "--out", OUT], r"frames must be even"),
    (["experiment", "smplifyx-tables", "--out", str(FILE)], r"--out .*a-file is a file, not a folder"),
    (["experiment", "smplifyx-tables", "--threads", "0"], r"--threads: must be > 0"),
    # smplify-eval
    (["smplify-eval", "--out", str(FILE)], r"--out .*a-file is a file, not a folder"),
    (["smplify-eval", "--out", OUT, "--frames", "0"], r"--frames: must be > 0"),
    (["smplify-eval", "--out", OUT, "--iterations", "-3"], r"--iterations: must be > 0"),
    (["smplify-eval", "--out", OUT, "--threads", "-1"], r"--threads: must be >= 0"),
    (["smplify-eval", "--out", OUT, "--device", NO_DEVICE], r"--device: "),
    # train-vposer
    # train-humor / eval-humor (HuMoR)
    (["train-humor"], r"the following arguments are required: --out"),
    (["train-humor", "--out", OUT, "--steps", "0"], r"--steps: must be > 0, got 0"),
    (["eval-humor", "--out", OUT + ".json", "--num-starts", "0"], r"--num-starts: must be > 0, got 0"),
    # experiment curves / probe (val diagnostics)
    (["experiment", "curves", "--weights", MISSING, "--out", OUT + ".json"], r"no weights file .*does-not-exist.*humanlib experiment tune"),
    (["experiment", "probe", "--window", "0", "--out", OUT + ".json"], r"--window: must be > 0, got 0"),
    (["experiment", "probe", "--num-windows", "0", "--out", OUT + ".json"], r"--num-windows: must be > 0, got 0"),
    (["experiment", "humor-floor", "--window", "0", "--out", OUT + ".json"], r"--window: must be > 0, got 0"),
    (["experiment", "humor-floor", "--num-windows", "0", "--out", OUT + ".json"], r"--num-windows: must be > 0, got 0"),
    (["experiment", "humor-floor", "--threads", "0", "--out", OUT + ".json"], r"--threads: must be > 0, got 0"),
    (["train-vposer"], r"the following arguments are required: --out"),
    (["train-vposer", "--out", str(FILE)], r"--out .*a-file is a file, not a folder"),
    (["train-vposer", "--out", OUT, "--epochs", "0"], r"--epochs: must be > 0"),
    (["train-vposer", "--out", OUT, "--batch-size", "0"], r"--batch-size: must be > 0"),
    (["train-vposer", "--out", OUT, "--lr", "-0.1"], r"--lr: must be > 0"),
    (["train-vposer", "--out", OUT, "--lr", "inf"], r"--lr: must be a finite number"),
    (["train-vposer", "--out", OUT, "--patience", "-1"], r"--patience: must be > 0"),
    (["train-vposer", "--out", OUT, "--threads", "0"], r"--threads: must be > 0"),
    (["train-vposer", "--out", OUT, "--max-minutes", "0"], r"--max-minutes: must be > 0"),
    (["train-vposer", "--out", OUT, "--max-train-frames", "0"], r"--max-train-frames: must be > 0"),
    (["train-vposer", "--out", OUT, "--loss", "l2"], r"--loss: invalid choice"),
    (["train-vposer", "--out", OUT, "--device", NO_DEVICE], r"--device: "),
    (["train-vposer", "--out", OUT, "--resume"], r"nothing to resume: .*last.pt does not exist; start without --resume"),
    # eval-vposer
    (["eval-vposer", "--out", str(FOLDER)], r"--out .*a-folder is a folder"),
    (["eval-vposer", "--out", OUT + ".json", "--checkpoint", MISSING], r"--checkpoint .*does not exist"),
    (["eval-vposer", "--out", OUT + ".json", "--checkpoint", str(FOLDER)], r"--checkpoint .*is a folder, not a file"),
    (["eval-vposer", "--out", OUT + ".json", "--checkpoint", str(CORRUPT)], r"corrupt.npz is not a readable"),
    (["eval-vposer", "--out", OUT + ".json", "--gmm", MISSING], r"--gmm .*does not exist"),
    (["eval-vposer", "--out", OUT + ".json", "--gmm", str(CORRUPT)], r"corrupt.npz is not a readable GMM"),
    (["eval-vposer", "--out", OUT + ".json", "--num-samples", "0"], r"--num-samples: must be > 0"),
    (["eval-vposer", "--out", OUT + ".json", "--max-test", "-1"], r"--max-test: must be > 0"),
    (["eval-vposer", "--out", OUT + ".json", "--threads", "0"], r"--threads: must be > 0"),
    # train-posendf
    (["train-posendf", "--out", str(FILE)], r"--out .*a-file is a file, not a folder"),
    (["train-posendf", "--out", OUT, "--steps", "0"], r"--steps: must be > 0"),
    (["train-posendf", "--out", OUT, "--batch-size", "-1"], r"--batch-size: must be > 0"),
    (["train-posendf", "--out", OUT, "--lr", "0"], r"--lr: must be > 0"),
    (["train-posendf", "--out", OUT, "--eikonal-weight", "-0.1"], r"--eikonal-weight: must be >= 0"),
    (["train-posendf", "--out", OUT, "--k", "-1"], r"--k: must be >= 0"),
    (["train-posendf", "--out", OUT, "--num-manifold", "-1"], r"--num-manifold: must be >= 0"),
    (["train-posendf", "--out", OUT, "--num-noisy", "0"], r"--num-noisy: must be > 0"),
    (["train-posendf", "--out", OUT, "--val-every", "0"], r"--val-every: must be > 0"),
    (["train-posendf", "--out", OUT, "--threads", "0"], r"--threads: must be > 0"),
    (["train-posendf", "--out", OUT, "--metric", "l2"], r"--metric: invalid choice"),
    (["train-posendf", "--out", OUT, "--device", NO_DEVICE], r"--device: "),
    (["train-posendf", "--out", OUT, "--data", str(FOLDER)], r"--data .*a-folder is a folder"),
    (["train-posendf", "--out", OUT, "--resume"], r"nothing to resume: .*last.pt does not exist"),
    # eval-posendf
    (["eval-posendf", "--out", str(FOLDER)], r"--out .*a-folder is a folder"),
    (["eval-posendf", "--out", OUT + ".json", "--checkpoint", MISSING], r"--checkpoint .*does not exist"),
    (["eval-posendf", "--out", OUT + ".json", "--checkpoint", str(CORRUPT)], r"corrupt.npz is not a readable"),
    (["eval-posendf", "--out", OUT + ".json", "--data", str(FOLDER)], r"--data .*a-folder is a folder"),
    (["eval-posendf", "--out", OUT + ".json", "--threads", "0"], r"--threads: must be > 0"),
    (["eval-posendf", "--out", OUT + ".json", "--num-generate", "0"], r"--num-generate: must be > 0"),
    (["eval-posendf", "--out", OUT + ".json", "--num-generate", "1"], r"--num-generate must be >= 2"),
    (["eval-posendf", "--out", OUT + ".json", "--bench-poses", "-1"], r"--bench-poses: must be > 0"),
    # experiment denoise / occlusion / tune / tables
    (["experiment", "denoise", "--out", OUT, "--priors", "gmm,bogus"], r"unknown prior 'bogus'; choose from none, gmm"),
    (["experiment", "denoise", "--out", OUT, "--priors", ","], r"give at least one prior"),
    (["experiment", "denoise", "--out", OUT, "--windows", "2"], r"--windows must be integers >= 3"),
    (["experiment", "denoise", "--out", OUT, "--windows", "60,abc"], r"--windows must be comma-separated integers"),
    (["experiment", "denoise", "--out", OUT, "--frames-per-length", "-1"], r"--frames-per-length: must be >= 0"),
    (["experiment", "denoise", "--out", OUT, "--conditions", "bogus"], r"unknown condition 'bogus'"),
    (["experiment", "denoise", "--out", OUT, "--weights", MISSING], r"no weights file .*does-not-exist.npz"),
    (["experiment", "denoise", "--out", OUT, "--weights", str(CORRUPT_JSON)], r"corrupt.json is not a weights file"),
    (["experiment", "denoise", "--out", OUT, "--iterations", "0"], r"--iterations: must be > 0"),
    (["experiment", "denoise", "--out", OUT, "--threads", "0"], r"--threads: must be > 0"),
    (["experiment", "denoise", "--out", OUT, "--device", NO_DEVICE], r"--device: "),
    (["experiment", "denoise", "--out", str(FILE)], r"--out .*a-file is a file, not a folder"),
    (["experiment", "occlusion", "--out", str(FILE)], r"--out .*a-file is a file, not a folder"),
    (["experiment", "occlusion", "--out", OUT, "--priors", "vposer2"], r"unknown prior 'vposer2'"),
    (["experiment", "tune", "--out", OUT + ".json", "--priors", "bogus"], r"unknown prior 'bogus'"),
    (["experiment", "tune", "--out", OUT + ".json", "--window", "2"], r"window must be >= 3"),
    (["experiment", "tune", "--out", OUT + ".json", "--window", "0"], r"--window: must be > 0"),
    (["experiment", "tune", "--out", OUT + ".json", "--num-windows", "0"], r"--num-windows: must be > 0"),
    (["experiment", "tune", "--out", OUT + ".json", "--iterations", "0"], r"--iterations: must be > 0"),
    (["experiment", "tune", "--out", str(FOLDER)], r"--out .*a-folder is a folder"),
    (["experiment", "tune", "--out", OUT + ".json", "--device", NO_DEVICE], r"--device: "),
    (["experiment", "tables", "--results", MISSING], r"results folder .*does not exist"),
    (["experiment", "tables", "--results", str(FILE)], r"results folder .*a-file is a file, not a folder"),
    (["experiment", "nosuch"], r"invalid choice: 'nosuch'"),
    # experiment --motions DIR (a user's own motion folder)
    (["experiment", "denoise", "--out", OUT, "--motions", MISSING], r"motion folder .*does-not-exist.npz does not exist"),
    (["experiment", "denoise", "--out", OUT, "--motions", str(FILE)], r"motion folder .*a-file is a file, not a folder"),
    (["experiment", "denoise", "--out", OUT, "--motions", str(FOLDER)], r"no motion in .*a-folder: .*humanlib retarget"),
    (["experiment", "denoise", "--out", OUT, "--motions", MIXED_RATES], r"mixed frame rates in .*30 fps: .*60 fps"),
    (["experiment", "denoise", "--out", OUT, "--motions", SHORT_CLIPS, "--windows", "8,60"],
     r"shorter than a window of 60 frames .*10 frames at 30 fps\); drop 60"),
    (["experiment", "denoise", "--out", OUT, "--motions", SHORT_CLIPS, "--fps", "60"], r"at 30 fps .*drop it"),
    (["experiment", "denoise", "--out", OUT, "--motions", SHORT_CLIPS, "--fps", "0"], r"--fps: must be > 0"),
    (["experiment", "denoise", "--out", OUT, "--up", "x"], r"--up: invalid choice: 'x'"),
    (["experiment", "denoise", "--out", OUT, "--up", "y"], r"--up and --fps describe .*give --motions DIR"),
    (["experiment", "occlusion", "--out", OUT, "--motions", str(FOLDER)], r"no motion in .*a-folder"),
    (["experiment", "occlusion", "--out", OUT, "--fps", "30"], r"give --motions DIR"),
    (["experiment", "tune", "--out", OUT + ".json", "--motions", str(FOLDER)], r"no motion in .*a-folder"),
    (["experiment", "tune", "--out", OUT + ".json", "--motions", SHORT_CLIPS], r"shorter than a window of 60 frames"),
    (["experiment", "tune", "--out", OUT + ".json", "--up", "z"], r"give --motions DIR"),
    (["experiment", "tune", "--out", OUT + ".json", "--motions", SHORT_CLIPS, "--fps", "-1"], r"--fps: must be > 0"),
    # denoise (a user's own motion)
    (["denoise", MISSING, "--out", OUT], r"motion file .*does-not-exist.npz does not exist"),
    (["denoise", str(FOLDER), "--out", OUT], r"motion file .*a-folder is a directory, not a file"),
    (["denoise", str(CORRUPT), "--out", OUT], r"corrupt.npz: not a readable .npz"),
    (["denoise", MOTION_BAD_WIDTH, "--out", OUT], r"'poses' has shape \(10, 50\)"),
    (["denoise", MOTION_NO_RATE, "--out", OUT], r"missing key 'mocap_framerate' or 'mocap_frame_rate'"),
    (["denoise", MOTION, "--out", OUT, "--prior", "bogus"], r"--prior: invalid choice: 'bogus'"),
    (["denoise", MOTION, "--out", str(FILE)], r"--out .*a-file is a file, not a folder"),
    (["denoise", MOTION, "--out", OUT, "--window", "2"], r"--window: must be >= 3"),
    (["denoise", MOTION, "--out", OUT, "--iterations", "0"], r"--iterations: must be > 0"),
    (["denoise", MOTION, "--out", OUT, "--smooth-weight", "-1"], r"--smooth-weight: must be >= 0"),
    (["denoise", MOTION, "--out", OUT, "--prior-weight", "nan"], r"--prior-weight: must be a finite number"),
    (["denoise", MOTION, "--out", OUT, "--weights", MISSING], r"no weights file .*does-not-exist.npz"),
    (["denoise", MOTION, "--out", OUT, "--device", NO_DEVICE], r"--device: "),
    (["denoise", MOTION, "--out", OUT, "--threads", "0"], r"--threads: must be > 0"),
    # check
    (["check", "--body-model", MISSING], r"--body-model .*does not exist"),
    (["check", "--body-model", str(FOLDER)], r"--body-model .*a-folder is a folder, not a file"),
    (["check", "--body-model", str(CORRUPT)], r"1 problem\(s\) found \(listed above\)"),
    (["check", "--amass", MISSING], r"--amass .*does not exist"),
    (["check", "--amass", str(FILE)], r"--amass .*a-file is a file, not a folder"),
    (["check", "--amass", str(FOLDER), "--max-files", "0"], r"--max-files: must be > 0"),
    (["check", "--motions", MISSING], r"--motions .*does not exist"),
    (["check", "--motions", str(FOLDER)], r"1 problem\(s\) found \(listed above\)"),
    (["check", "--motions", MIXED_RATES, "--up", "x"], r"--up: invalid choice: 'x'"),
    (["check", "--motions", MIXED_RATES, "--fps", "0"], r"--fps: must be > 0"),
    (["check", "--fps", "30"], r"--up and --fps describe .*give --motions DIR"),
    # the entry point itself
    (["no-such-command"], r"invalid choice: 'no-such-command'"),
]


def _case_id(case: tuple[list[str], str]) -> str:
    argv = [a.replace(str(_TMP) + "/", "") for a in case[0]]
    return " ".join(argv)


@pytest.fixture(autouse=True)
def _keep_torch_state():
    """A command may set torch's thread count or seed before failing: give the next test its own."""
    threads = torch.get_num_threads()
    rng = torch.get_rng_state()
    yield
    torch.set_num_threads(threads)
    torch.set_rng_state(rng)


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """``humanlib ARGV`` in-process: (exit status, stdout, stderr)."""
    try:
        status = cli.main(argv)
    except SystemExit as exit_:
        status = exit_.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_bad_argument_fails_in_one_line(case, capsys):
    argv, pattern = case
    status, out, err = run_cli(argv, capsys)
    lines = err.strip().splitlines()
    assert status not in (0, None), f"humanlib {' '.join(argv)} succeeded; stdout: {out[-500:]}"
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err}"
    assert lines[0].startswith("humanlib: error: "), lines[0]
    assert "Traceback" not in err and "usage:" not in err
    assert re.search(pattern, lines[0]), f"{lines[0]!r} does not match {pattern!r}"
    assert not Path(OUT).exists(), "a failing command created its output folder"


# --------------------------------------------------------------------------- the inventory


def _leaf_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """``(words, parser)`` of every runnable command, e.g. ``(("experiment", "tune"), parser)``."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield prefix, parser
        return
    for action in subs:
        for name, sub in action.choices.items():
            yield from _leaf_commands(sub, prefix + (name,))


LEAVES = list(_leaf_commands(cli.build_parser()))


def test_every_command_has_a_bad_argument_case():
    covered = {tuple(argv[:len(words)]) for argv, _ in CASES for words, _p in LEAVES if argv[:len(words)] == list(words)}
    missing = sorted(" ".join(words) for words, _ in LEAVES if words not in covered)
    assert not missing, f"commands without a bad-argument case in {Path(__file__).name}: {missing}"


@pytest.mark.parametrize("words,parser", LEAVES, ids=[" ".join(w) for w, _ in LEAVES])
def test_output_options_state_their_default(words, parser):
    """Every --out / --results option is required, or its help says where the default writes."""
    for action in parser._actions:
        if set(action.option_strings) & {"--out", "--results"} and not action.required:
            assert "default" in (action.help or ""), f"humanlib {' '.join(words)} {action.option_strings[0]}: {action.help!r}"


@pytest.mark.parametrize("words,parser", LEAVES, ids=[" ".join(w) for w, _ in LEAVES])
def test_sizes_and_devices_are_checked_by_argparse(words, parser):
    """Options that take a count, a step number or a device use the checked types of humanlib.cli."""
    plain_int = {"--seed"}  # any integer is a valid seed
    for action in parser._actions:
        opt = action.option_strings[0] if action.option_strings else ""
        if action.type is int and opt not in plain_int:
            pytest.fail(f"humanlib {' '.join(words)} {opt}: type=int accepts 0 and negatives; use cli.positive_int")
        if opt == "--device":
            assert action.type is cli.device, f"humanlib {' '.join(words)} --device is not checked"


# --------------------------------------------------------------------------- progress bars

#: Commands that run for minutes: each shows a tqdm bar unless told --quiet (or --no-progress).
LONG_COMMANDS = {"build-corpus", "train-gmm", "smplify-eval", "train-vposer", "eval-vposer", "train-posendf",
                 "eval-posendf", "experiment denoise", "experiment occlusion", "experiment tune", "denoise"}


def test_long_commands_can_turn_their_progress_bar_off():
    options = {" ".join(words): {o for a in parser._actions for o in a.option_strings} for words, parser in LEAVES}
    assert LONG_COMMANDS <= set(options)
    for name in LONG_COMMANDS:
        assert {"--quiet", "--no-progress"} <= options[name], f"humanlib {name} has no --quiet / --no-progress"


def test_library_progress_bars_are_off_unless_asked(capsys):
    """Notebooks call the library without ``progress``: their stored outputs must not change."""
    from humanlib.priors.gmm import fit_gmm

    x = torch.randn(40, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    fit_gmm(x, 2, max_iter=3)
    assert capsys.readouterr().err == ""
    fit_gmm(x, 2, max_iter=3, progress=True)
    assert "EM K=2" in capsys.readouterr().err
