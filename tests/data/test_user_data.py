"""A researcher's own mocap: ``retarget_folder`` reproduces the committed corpus clip bit for bit."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from humanlib import paths
from humanlib.data import load_corpus
from humanlib.data.retarget_files import MOTIONS_FILE, retarget_folder

ARCHIVE = "cmu-asfamc-subjects-01-and-03.tar.xz"


def _raw() -> Path:
    raw = paths.raw_data_dir()
    if raw is None or not (Path(raw) / ARCHIVE).is_file():
        pytest.skip(f"needs the course archive {ARCHIVE} (HUMANLIB_RAW_DATA or ../shared/data)")
    return Path(raw)


def test_retarget_cmu_clip_reproduces_the_committed_corpus_bit_for_bit(tmp_path, monkeypatch):
    with tarfile.open(_raw() / ARCHIVE) as tf:
        for name in ("subjects/03/03.asf", "subjects/03/03_01.amc"):
            tf.extract(name, tmp_path / "raw", filter="data")
    monkeypatch.chdir(tmp_path)  # from a folder outside the repository
    report = retarget_folder(tmp_path / "raw", "mine", fps=30.0)
    meta = json.loads((tmp_path / "mine" / MOTIONS_FILE).read_text())
    assert meta["fps"] == 30.0 and meta["up"] == "y" and [c["id"] for c in meta["clips"]] == ["03_01"]
    assert report["direction_error_deg"]["cmu"]["all_bones_mean"] > 0
    corpus = load_corpus("test")
    i = next(k for k, c in enumerate(corpus.clips) if c.name == "03_01")
    poses, transl = corpus.clip(i)
    with np.load(tmp_path / "mine" / "03_01.npz") as d:
        assert d["poses"].dtype == np.float16
        assert np.array_equal(d["poses"].astype(np.float32), poses[:, :22].numpy())
        assert np.array_equal(d["transl"], transl.numpy())


def _short_amc(text: str, frames: int) -> str:
    """The header and first ``frames`` frames of an AMC file (frame lines are bare integers)."""
    out, seen = [], 0
    for line in text.splitlines():
        if line.strip().isdigit():
            seen += 1
            if seen > frames:
                break
        out.append(line)
    return "\n".join(out) + "\n"


def test_retarget_command_from_a_tmp_cwd_prints_the_report(tmp_path, monkeypatch, capsys):
    """``humanlib retarget`` on 120 frames (1 s at CMU's 120 fps) of 03_01, run outside the repository."""
    from humanlib import cli

    with tarfile.open(_raw() / ARCHIVE) as tf:
        asf = tf.extractfile("subjects/03/03.asf").read().decode()
        amc = tf.extractfile("subjects/03/03_01.amc").read().decode()
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "03.asf").write_text(asf)
    (tmp_path / "raw" / "03_01.amc").write_text(_short_amc(amc, 120))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["retarget", "raw", "--out", "mine", "--fps", "30", "--quiet"]) == 0
    printed = capsys.readouterr().out
    meta = json.loads((tmp_path / "mine" / MOTIONS_FILE).read_text())
    assert meta["clips"][0]["num_frames"] == 30 and "1 clips, 30 frames at 30 fps" in printed
    report = json.loads((tmp_path / "mine" / "retarget_report.json").read_text())
    assert f"all_bones_mean {report['direction_error_deg']['cmu']['all_bones_mean']:.3g}" in printed


@pytest.mark.parametrize("make, expected", [
    (lambda d: None, "no motion under"),
    (lambda d: (d / "x.bvh").write_text("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 3 Xposition Yposition "
                                        "Zposition\n End Site\n {\n  OFFSET 0 1 0\n }\n}\nMOTION\nFrames: 1\n"
                                        "Frame Time: 0.0333\n0 0 0\n"), "cannot be mapped"),
])
def test_retarget_command_bad_inputs_end_in_one_line(tmp_path, monkeypatch, capsys, make, expected):
    from humanlib import cli

    (tmp_path / "src").mkdir()
    make(tmp_path / "src")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["retarget", "src", "--out", "mine", "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert expected in err and "\n" not in err and not (tmp_path / "mine").exists()


BANDAI_ARCHIVE = "bandai-namco-research-motiondataset-1-2.tar.xz"
BANDAI_FILES = ("dataset-1_run_masculinity_001.bvh", "dataset-2_walk_normal_001.bvh")


def _bandai_texts() -> dict[str, str]:
    raw = paths.raw_data_dir()
    if raw is None or not (Path(raw) / BANDAI_ARCHIVE).is_file():
        pytest.skip(f"needs the course archive {BANDAI_ARCHIVE} (HUMANLIB_RAW_DATA or ../shared/data)")
    texts = {}
    with tarfile.open(Path(raw) / BANDAI_ARCHIVE, mode="r|xz") as tf:
        for member in tf:
            if Path(member.name).name in BANDAI_FILES:
                texts[Path(member.name).name] = tf.extractfile(member).read().decode()
    return texts


def test_a_renamed_rig_with_a_mapping_file_retargets_as_the_bandai_route(tmp_path, monkeypatch, capsys):
    """The Bandai-Namco rig with every joint renamed, through ``--mapping``, gives the Bandai route's poses."""
    import re

    from humanlib import cli
    from humanlib.data import sources as S

    texts = _bandai_texts()
    (tmp_path / "plain").mkdir()
    (tmp_path / "renamed").mkdir()
    for name, text in texts.items():
        (tmp_path / "plain" / name).write_text(text)
        (tmp_path / "renamed" / name).write_text(re.sub(r"^(\s*(?:ROOT|JOINT)\s+)(\S+)", r"\1my_\2", text, flags=re.M))
    mapping = json.loads((paths.PACKAGE_DIR / "assets" / "mappings" / "bandai_namco.json").read_text())
    mapping["joints"] = {k: f"my_{v}" for k, v in mapping["joints"].items()}
    mapping["reference_file"], mapping["reference_frame"] = S.BANDAI_REFERENCE
    (tmp_path / "map.json").write_text(json.dumps(mapping))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["retarget", "renamed", "--out", "bad", "--quiet"]) == 1  # without the mapping: one line
    err = capsys.readouterr().err
    assert "lacks the Bandai-Namco rig's" in err and "give --mapping FILE" in err and err.count("\n") == 1
    assert cli.main(["retarget", "renamed", "--out", "mapped", "--mapping", "map.json", "--quiet"]) == 0
    assert cli.main(["retarget", "plain", "--out", "plain_out", "--quiet"]) == 0
    clip = BANDAI_FILES[0].removesuffix(".bvh")
    with np.load(tmp_path / "mapped" / f"{clip}.npz") as a, np.load(tmp_path / "plain_out" / f"{clip}.npz") as b:
        diff = np.abs(a["poses"].astype(np.float32) - b["poses"].astype(np.float32)).max()
        assert diff == 0.0, f"max |mapped - Bandai route| pose difference {diff:.2e} rad"
        assert np.array_equal(a["transl"], b["transl"])


def test_the_shipped_val_weights_equal_the_committed_results_file():
    from humanlib.experiments.denoise import DEFAULT_WEIGHTS, SHIPPED_WEIGHTS

    assert SHIPPED_WEIGHTS.read_bytes() == (paths.REPO_DIR / DEFAULT_WEIGHTS).read_bytes(), (
        "copy results/experiments/weights_val.json to humanlib/assets/experiments/weights_val.json")


def test_commands_find_the_shipped_weights_from_a_tmp_cwd(tmp_path, monkeypatch):
    """From a folder outside the repository the default weights are the package's, read as the tuned ones."""
    from humanlib.commands import experiment as experiment_command
    from humanlib.experiments.denoise import SHIPPED_WEIGHTS, choose_weights

    monkeypatch.chdir(tmp_path)
    seen = {}
    monkeypatch.setattr(experiment_command, "run_experiment", lambda config, **kw: seen.update(kw) or (_ for _ in ()).throw(
        RuntimeError("stop")))
    from humanlib import cli

    with pytest.raises(RuntimeError, match="stop"):
        cli.main(["experiment", "denoise", "--priors", "none", "--windows", "60", "--out", "x"])
    assert seen["weights_file"] == str(SHIPPED_WEIGHTS) and seen["weights"] is not None
    assert choose_weights("gmm", SHIPPED_WEIGHTS)[2] != "default"


def test_an_amass_layout_folder_of_any_name_reads_as_the_amass_loader_turns_it(tmp_path):
    """Z up by AMASS's convention: the reader's poses are the AMASS loader's Y-up ones; ``up="y"`` leaves them."""
    from user_files import write_amass_folder

    from humanlib.data import load_amass_npz, read_motion_folder

    root = write_amass_folder(tmp_path / "my own name", num_clips=2, frames=12)
    folder = read_motion_folder(root)
    assert folder.layout == "amass" and folder.name == "my own name" and folder.up == "z" and folder.fps == 30.0
    assert [c.id for c in folder.clips] == ["CMU/subject_00/clip_00_poses", "HumanEva/subject_01/clip_01_poses"]
    as_is = read_motion_folder(root, up="y")
    for clip, same in zip(folder.clips, as_is.clips):
        m = load_amass_npz(root / clip.file)
        assert np.allclose(clip.poses.numpy(), m.poses, atol=1e-5) and np.allclose(clip.transl.numpy(), m.transl, atol=1e-6)
        raw = load_amass_npz(root / clip.file, y_up=False)
        assert np.array_equal(same.poses.numpy(), raw.poses)
    assert folder.fingerprint != as_is.fingerprint and folder.fingerprint in folder.describe()


def _smooth_motion(frames: int, fps: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A smooth SMPL motion (1 Hz swings of every joint the two rigs carry), starting at rest, walking along x."""
    from humanlib.skeleton import joint

    t = np.arange(frames) / fps
    rng = np.random.default_rng(seed)
    poses = rng.uniform(0.1, 0.4, (24, 3)) * np.sin(2 * np.pi * t[:, None, None] + rng.uniform(0, 6, (24, 3)))
    for name in ("spine2", "spine3", "left_hand", "right_hand"):  # at rest in both rigs (see test_data)
        poses[:, joint(name)] = 0.0
    poses[0] = 0.0
    return poses, np.stack([0.5 * t, 0.02 * np.sin(t), np.zeros_like(t)], 1)


def test_the_whole_route_retarget_then_experiment_from_a_tmp_cwd_equals_the_library_route(tmp_path, monkeypatch, capsys):
    """A test-written CMU subject (ASF/AMC, 120 fps) and a BVH (30 fps), run outside the repository:
    ``humanlib retarget`` -> ``humanlib check --motions`` -> ``humanlib experiment denoise --motions``; the results
    file's numbers equal ``run_experiment`` on the same clips, and it names the folder, fingerprint and clip ids."""
    from humanlib import cli
    from humanlib.data import read_motion_folder
    from humanlib.data.retarget import target_rest_joints
    from humanlib.data.synthetic import write_smpl_as_asf_amc, write_smpl_as_bvh
    from humanlib.experiments.denoise import SHIPPED_WEIGHTS
    from humanlib.experiments.runner import ExperimentConfig, read_results, read_weights, run_experiment

    J, _ = target_rest_joints()
    (tmp_path / "raw" / "07").mkdir(parents=True)
    write_smpl_as_asf_amc(tmp_path / "raw/07/07.asf", tmp_path / "raw/07/07_01.amc", *_smooth_motion(96, 120.0, 0), J)
    write_smpl_as_bvh(tmp_path / "raw/walk_001.bvh", *_smooth_motion(24, 30.0, 1), J)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["retarget", "raw", "--out", "mine", "--quiet"]) == 0
    capsys.readouterr()
    assert cli.main(["check", "--motions", "mine"]) == 0
    checked = capsys.readouterr().out
    assert "ok: motion 07_01 (07_01.npz): 30 fps, file Y up, 24 frames (0.80 s)" in checked
    assert "ok: motion walk_001 (walk_001.npz): 30 fps, file Y up, 24 frames (0.80 s)" in checked
    options = ["--priors", "none,gmm", "--windows", "8", "--frames-per-length", "16", "--iterations", "2",
               "--conditions", "pose-0.1rad,joints-4cm"]
    assert cli.main(["experiment", "denoise", "--motions", "mine", *options, "--quiet"]) == 0
    path = tmp_path / "results" / "experiments" / "mine" / "denoise.json"  # the default --out, under the cwd
    cli_results = read_results(path)
    folder = read_motion_folder("mine")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    config = ExperimentConfig("denoise", priors=("none", "gmm"), windows=(8,), frames_per_length=16, iterations=2,
                              conditions=("pose-0.1rad", "joints-4cm"))
    library = run_experiment(config, clips=folder.experiment_clips(), fps=folder.fps, data=folder.name,
                             weights=read_weights(SHIPPED_WEIGHTS)[0], weights_file=str(SHIPPED_WEIGHTS))
    numbers = ("v2v_cm", "joint_angle_deg", "joint_cm", "input_v2v_cm", "input_joint_cm", "smooth_weight",
               "prior_weight", "num_windows", "frames")
    cells = [(r.condition, r.prior, r.window) for r in library.rows]
    assert sorted(cells) == sorted((r.condition, r.prior, r.window) for r in cli_results.rows) and len(cells) == 4
    for row in library.rows:
        got = cli_results.row(row.condition, row.prior, row.window)
        assert {k: getattr(got, k) for k in numbers} == {k: getattr(row, k) for k in numbers}, row.condition
        assert got.weights_source == "val"
    meta = cli_results.metadata
    assert meta.split == "mine" and meta.clips == ["07_01", "walk_001"] and meta.fps == 30.0
    assert meta.corpus == library.metadata.corpus == f"mine: 2 clips, 48 frames at 30 fps, clips sha256 {folder.fingerprint}"
    assert meta.windows == library.metadata.windows and meta.weights_file == str(SHIPPED_WEIGHTS)
    assert str(tmp_path / "mine") in meta.notes


def test_tune_with_motions_tunes_on_the_folder_and_writes_under_its_name(tmp_path, monkeypatch):
    """``experiment tune --motions``: tune_weights gets the folder's clips and rate; the file names the data."""
    from user_files import write_amass_folder

    from humanlib import cli
    from humanlib.commands import experiment as experiment_command
    from humanlib.experiments.runner import WeightChoice

    write_amass_folder(tmp_path / "takes", num_clips=2, frames=12)
    seen = {}

    def fake_tune(config, clips, fps, **kw):
        seen.update(clips=[c[0] for c in clips], fps=fps, window=config.window)
        return [WeightChoice("joints-4cm", "none", 1.0, 0.0, 1.0)], []

    monkeypatch.setattr(experiment_command, "tune_weights", fake_tune)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["experiment", "tune", "--motions", "takes", "--window", "8", "--priors", "none", "--quiet"]) == 0
    assert seen == {"clips": ["CMU/subject_00/clip_00_poses", "HumanEva/subject_01/clip_01_poses"], "fps": 30.0, "window": 8}
    meta = json.loads((tmp_path / "results/experiments/takes/weights_takes.json").read_text())["metadata"]
    assert meta["split"] == "takes" and meta["clips"] == seen["clips"] and "Z up" in meta["data"]
    assert "clips sha256" in meta["data"] and "report results on other clips" in meta["note"]


def test_the_book_and_help_state_the_conventions_and_cache_the_code_uses(monkeypatch, tmp_path, capsys):
    from humanlib import cli
    from humanlib.data.amass import Z_UP_TO_Y_UP

    page = (paths.REPO_DIR / "book" / "your_data.md").read_text()
    assert "(x, y, z) -> (x, z, -y)" in page and np.array_equal(Z_UP_TO_Y_UP @ np.array([1.0, 2.0, 3.0]), [1.0, 3.0, -2.0])
    monkeypatch.delenv("HUMANLIB_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert paths.cache_dir() == tmp_path / ".cache" / "humanlib" and "`~/.cache/humanlib`" in page
    assert "results/experiments/<DIR's name>" in page
    helps = {}
    for command in ("experiment denoise", "check"):
        with pytest.raises(SystemExit):
            cli.main([*command.split(), "--help"])
        helps[command] = " ".join(capsys.readouterr().out.split())
        assert "Y up, metres" in helps[command] and "(x, y, z) -> (x, z, -y)" in helps[command], command
    assert "cached in HUMANLIB_CACHE_DIR (default ~/.cache/humanlib)" in helps["experiment denoise"]
    assert "with --motions DIR: results/experiments/<DIR's name>" in helps["experiment denoise"]
