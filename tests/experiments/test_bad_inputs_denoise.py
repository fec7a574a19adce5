"""Bad inputs to humanlib.experiments.denoise (denoising a user's own motion file): every public name,
plus one real end-to-end denoising of a short corpus clip with noise (through ``humanlib denoise``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from bad_inputs import case_id, raises, returns, run_case
from hypothesis import given, settings
from hypothesis import strategies as st

from humanlib import cli
from humanlib.data.amass import AmassFormatError
from humanlib.experiments import denoise as dn
from humanlib.priors import NoPrior

_TMP = Path(tempfile.mkdtemp(prefix="humanlib-bad-denoise-"))
FOLDER = _TMP / "a-folder"
FOLDER.mkdir()
MISSING = _TMP / "missing.npz"


def _npz(name: str, **arrays) -> Path:
    path = _TMP / name
    np.savez(path, **arrays)
    return path


def _garbage(name: str, data: bytes) -> Path:
    path = _TMP / name
    path.write_bytes(data)
    return path


MOTION = _npz("motion.npz", poses=np.zeros((6, 156)), trans=np.zeros((6, 3)), mocap_frame_rate=np.array(60.0))
NO_TRANS = _npz("notrans.npz", poses=np.zeros((5, 72)), mocap_framerate=np.array(30.0))
POSES = torch.zeros(6, 24, 3)


def _motion() -> dn.MotionFile:
    return dn.read_motion(MOTION)


def _result(frames: int = 6) -> dn.DenoiseResult:
    return dn.DenoiseResult(torch.zeros(frames, 24, 3), torch.zeros(frames, 3), 1, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0)


D = "humanlib.experiments.denoise."

CASES = [
    # ------------------------------------------------------------------ denoise: configuration
    raises(D + "DenoiseConfig", "window of 2 frames", lambda: dn.DenoiseConfig(window=2), ValueError,
           r"DenoiseConfig.window must be >= 3"),
    raises(D + "DenoiseConfig", "window not an int", lambda: dn.DenoiseConfig(window=60.0), TypeError,
           r"DenoiseConfig.window must be an integer"),
    raises(D + "DenoiseConfig", "zero iterations", lambda: dn.DenoiseConfig(iterations=0), ValueError,
           r"DenoiseConfig.iterations"),
    raises(D + "DenoiseConfig", "negative smoothness", lambda: dn.DenoiseConfig(smooth_weight=-1.0), ValueError,
           r"DenoiseConfig.smooth_weight"),
    raises(D + "DenoiseConfig", "NaN prior weight", lambda: dn.DenoiseConfig(prior_weight=float("nan")), ValueError,
           r"DenoiseConfig.prior_weight"),
    raises(D + "DenoiseConfig", "zero windows per batch", lambda: dn.DenoiseConfig(batch_windows=0), ValueError,
           r"DenoiseConfig.batch_windows"),
    # ------------------------------------------------------------------ denoise: reading
    raises(D + "read_motion", "missing file", lambda: dn.read_motion(MISSING), FileNotFoundError,
           r"motion file .*missing.npz does not exist"),
    raises(D + "read_motion", "a folder", lambda: dn.read_motion(FOLDER), FileNotFoundError, r"is a directory"),
    raises(D + "read_motion", "garbage bytes", lambda: dn.read_motion(_garbage("g.npz", b"PK\x03\x04 garbage")),
           AmassFormatError, r"g.npz: not a readable .npz file"),
    raises(D + "read_motion", "a .npy array", lambda: dn.read_motion(_save_npy()), AmassFormatError,
           r"not a readable .npz file .*single .npy array"),
    raises(D + "read_motion", "no poses", lambda: dn.read_motion(_npz("np.npz", trans=np.zeros((4, 3)),
                                                                       mocap_framerate=np.array(30.0))),
           AmassFormatError, r"missing key 'poses'"),
    raises(D + "read_motion", "pose width 69", lambda: dn.read_motion(_npz("w.npz", poses=np.zeros((4, 69)),
                                                                          mocap_framerate=np.array(30.0))),
           AmassFormatError, r"w.npz: key 'poses' has shape \(4, 69\)"),
    raises(D + "read_motion", "no frame rate", lambda: dn.read_motion(_npz("r.npz", poses=np.zeros((4, 72)))),
           AmassFormatError, r"r.npz: missing key 'mocap_framerate' or 'mocap_frame_rate'"),
    raises(D + "read_motion", "NaN poses", lambda: dn.read_motion(_npz("nan.npz", poses=np.full((4, 72), np.nan),
                                                                       mocap_framerate=np.array(30.0))),
           AmassFormatError, r"NaN or inf"),
    raises(D + "read_motion", "trans of another length",
           lambda: dn.read_motion(_npz("t.npz", poses=np.zeros((4, 72)), trans=np.zeros((3, 3)),
                                       mocap_framerate=np.array(30.0))), AmassFormatError, r"'trans' has shape \(3, 3\)"),
    returns(D + "read_motion", "no trans: read at the origin, no trans written back",
            lambda: dn.read_motion(NO_TRANS), lambda m: m.transl is None and m.poses.shape == (5, 24, 3)),
    # ------------------------------------------------------------------ denoise: windows
    raises(D + "window_starts_covering", "a 2-frame clip", lambda: dn.window_starts_covering(2, 60), ValueError,
           r"at least 3 frames"),
    raises(D + "window_starts_covering", "window 0", lambda: dn.window_starts_covering(100, 0), ValueError, r"window"),
    raises(D + "window_starts_covering", "a float frame count", lambda: dn.window_starts_covering(10.0, 5), TypeError,
           r"num_frames must be an integer"),
    returns(D + "window_starts_covering", "the last window ends on the last frame",
            lambda: dn.window_starts_covering(10, 4), lambda s: s == [0, 4, 6]),
    returns(D + "window_starts_covering", "a clip shorter than a window is one window",
            lambda: dn.window_starts_covering(5, 120), lambda s: s == [0]),
    # ------------------------------------------------------------------ denoise: fitting
    raises(D + "denoise_motion", "poses of 23 joints", lambda: dn.denoise_motion(torch.zeros(6, 23, 3), None, 30.0, NoPrior()),
           ValueError, r"poses must have shape \(B, 24, 3\)"),
    raises(D + "denoise_motion", "numpy poses", lambda: dn.denoise_motion(np.zeros((6, 24, 3)), None, 30.0, NoPrior()),
           TypeError, r"torch.as_tensor"),
    raises(D + "denoise_motion", "NaN poses", lambda: dn.denoise_motion(torch.full((6, 24, 3), float("nan")), None, 30.0,
                                                                        NoPrior()), ValueError, r"non-finite"),
    raises(D + "denoise_motion", "int poses", lambda: dn.denoise_motion(torch.zeros(6, 24, 3, dtype=torch.int64), None,
                                                                        30.0, NoPrior()), ValueError, r"floating-point"),
    raises(D + "denoise_motion", "two frames", lambda: dn.denoise_motion(torch.zeros(2, 24, 3), None, 30.0, NoPrior()),
           ValueError, r"at least 3"),
    raises(D + "denoise_motion", "transl of another length", lambda: dn.denoise_motion(POSES, torch.zeros(5, 3), 30.0,
                                                                                      NoPrior()), ValueError, r"transl"),
    raises(D + "denoise_motion", "zero fps", lambda: dn.denoise_motion(POSES, None, 0.0, NoPrior()), ValueError, r"fps"),
    raises(D + "denoise_motion", "a prior name instead of a prior", lambda: dn.denoise_motion(POSES, None, 30.0, "gmm"),
           TypeError, r"load_prior"),
    raises(D + "denoise_motion", "a dict config", lambda: dn.denoise_motion(POSES, None, 30.0, NoPrior(), {"window": 5}),
           TypeError, r"DenoiseConfig"),
    # ------------------------------------------------------------------ denoise: writing and weights
    raises(D + "write_motion", "a result of another length", lambda: dn.write_motion(_motion(), _result(5), _TMP / "o.npz"),
           ValueError, r"5 frames but .*motion.npz has 6"),
    raises(D + "write_motion", "out is a folder", lambda: dn.write_motion(_motion(), _result(), FOLDER),
           IsADirectoryError, r"is a folder"),
    raises(D + "write_motion", "a path instead of a MotionFile", lambda: dn.write_motion(MOTION, _result(), _TMP / "o.npz"),
           TypeError, r"MotionFile"),
    returns(D + "write_motion", "other keys and the pose tail are kept",
            lambda: np.load(dn.write_motion(_motion(), _result(), _TMP / "o.npz")),
            lambda d: set(d.files) >= {"poses", "trans", "mocap_frame_rate", "humanlib_denoise"} and d["poses"].shape == (6, 156)),
    raises(D + "choose_weights", "unknown prior", lambda: dn.choose_weights("vposer2", None), ValueError,
           r"unknown prior 'vposer2'"),
    raises(D + "choose_weights", "missing weights file", lambda: dn.choose_weights("gmm", MISSING), FileNotFoundError,
           r"no weights file"),
    raises(D + "choose_weights", "a file of another format", lambda: dn.choose_weights("gmm", _garbage("w.json", b"{}")),
           ValueError, r"not a weights file"),
    returns(D + "choose_weights", "no file: the defaults", lambda: dn.choose_weights("gmm", None),
            lambda w: w[2] == "defaults" and w[0] > 0),
]


def _save_npy() -> Path:
    path = _TMP / "array.npy"
    np.save(path, np.zeros((4, 72)))
    return path


EXEMPT = {
    "humanlib.experiments.denoise.DenoiseResult": "result record built by denoise_motion, never from user input",
    "humanlib.experiments.denoise.MotionFile": "record built by read_motion, whose bad files are swept above",
}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input(case, capsys):
    run_case(case)


@settings(max_examples=25, deadline=None)
@given(st.integers(3, 400), st.integers(3, 150))
def test_windows_cover_every_frame(frames, window):
    starts = dn.window_starts_covering(frames, window)
    length = min(window, frames)
    covered = np.zeros(frames, bool)
    for s in starts:
        assert 0 <= s and s + length <= frames
        covered[s:s + length] = True
    assert covered.all() and starts == sorted(starts)


# --------------------------------------------------------------------------- end to end


def test_denoise_brings_a_noisy_clip_closer_to_the_clean_one(tmp_path, capsys):
    """20 frames of a test clip with 0.1 rad pose noise, through ``humanlib denoise --prior gmm``."""
    from humanlib.body import load_body_model
    from humanlib.data import load_corpus
    from humanlib.experiments.protocol import body_joints_of

    corpus = load_corpus("test")
    poses, transl = corpus.clip(0)
    clean, transl = poses[:20].double().numpy(), transl[:20].double().numpy()
    noisy = clean.copy()
    noisy[:, 1:22] += np.random.default_rng(0).normal(0.0, 0.1, noisy[:, 1:22].shape)
    src = tmp_path / "walk.npz"
    hands = np.full((20, 156 - 72), 0.3)  # SMPL-H's hand numbers: copied through untouched
    np.savez(src, poses=np.concatenate([noisy.reshape(20, 72), hands], 1), trans=transl,
             mocap_framerate=np.array(corpus.fps), gender=np.array("neutral"))
    threads = torch.get_num_threads()
    try:
        status = cli.main(["denoise", str(src), "--prior", "gmm", "--out", str(tmp_path / "out"), "--quiet",
                           "--iterations", "40"])
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert status == 0 and "denoised 20 frames" in out and "wrote" in out
    result = np.load(tmp_path / "out" / "walk_denoised_gmm.npz")
    assert result["poses"].shape == (20, 156) and result["poses"].dtype == np.float64
    assert np.array_equal(result["poses"][:, 72:], hands) and str(result["gender"]) == "neutral"
    model = load_body_model()

    def joints(p, t):
        return body_joints_of(model, torch.as_tensor(p).float().reshape(20, 24, 3), torch.as_tensor(t).float())

    truth = joints(clean, transl)
    before = (joints(noisy, transl) - truth).norm(dim=-1).mean()
    fitted = np.concatenate([result["poses"][:, :66], np.zeros((20, 6))], 1)
    after = (joints(fitted, result["trans"]) - truth).norm(dim=-1).mean()
    assert after < 0.8 * before, f"joint error {after * 100:.2f} cm after denoising, {before * 100:.2f} cm before"
