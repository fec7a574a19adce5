"""Measure a built corpus's source consistency against the raw sources (before / after a change).

``python -m humanlib.data.measure_corpus --corpus NAME=DIR [--corpus NAME=DIR ...] --raw RAW
--out results/corpus/consistency.json`` loads each corpus folder with :func:`load_corpus`,
reads the raw clip behind every CMU clip and every Bandai-Namco ``walk`` clip, and runs
:class:`humanlib.data.corpus_checks.CorpusChecks` on them (the same checks the build reports).
Train and val are stored at 10 fps and test at 30 fps: the source points are subsampled the way
the build subsamples the poses. The results file records the command, commit and machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from humanlib.data import sources as S
from humanlib.data.asf_amc import read_amc, read_asf
from humanlib.data.archives import _find_sources
from humanlib.data.bvh import read_bvh
from humanlib.data.corpus import SPLITS, corpus_rest_joints, load_corpus
from humanlib.data.corpus_checks import CorpusChecks, is_walk


class _Sources:
    """Raw source points of a clip at a stored frame rate, scaled to the target's size."""

    def __init__(self, cmu_root: Path, bandai_root: Path, target_leg: float) -> None:
        self.cmu_root, self.target_leg = cmu_root, target_leg
        self.bandai = {p.stem: p for p in bandai_root.glob("dataset/*/data/*.bvh")}
        ref = read_bvh(self.bandai[Path(S.BANDAI_REFERENCE[0]).stem])
        self.bandai_leg = S.leg_length(S.bandai_source_motion(ref).points[S.BANDAI_REFERENCE[1]])
        self.skeletons: dict[str, tuple] = {}

    def points(self, source: str, name: str, subject: str, fps: float) -> np.ndarray:
        if source == "cmu":
            if subject not in self.skeletons:
                skel = read_asf(self.cmu_root / "subjects" / subject / f"{subject}.asf")
                self.skeletons[subject] = (skel, S.leg_length(S.cmu_source_motion(skel, None).points[0]))
            skel, leg = self.skeletons[subject]
            src = S.cmu_source_motion(skel, read_amc(self.cmu_root / "subjects" / subject / f"{name}.amc", skel))
        else:
            src, leg = S.bandai_source_motion(read_bvh(self.bandai[name])), self.bandai_leg
        step = int(round(src.fps / fps))
        return src.points[::step] * (self.target_leg / leg)


def measure_corpus(corpus_dir: str | Path, raw_dir: str | Path) -> dict:
    """The consistency checks of one corpus folder against the raw sources.

    Args:
        corpus_dir: a corpus folder (``manifest.json`` and shards).
        raw_dir: folder with the raw archives or their unpacked ``subjects/`` and ``dataset/``.

    Returns:
        ``CorpusChecks.summary()`` plus ``passed`` and ``problems``.

    Raises:
        CorpusError: a missing or broken corpus, or raw data missing.
    """
    J = corpus_rest_joints(corpus_dir)
    checks = CorpusChecks(J)
    with tempfile.TemporaryDirectory(prefix="humanlib-measure-") as tmp:
        cmu_root, bandai_root = _find_sources(Path(raw_dir), Path(tmp), lambda m: None)
        raw = _Sources(cmu_root, bandai_root, S.leg_length(J))
        for split in SPLITS:
            corpus = load_corpus(split, corpus_dir, use_amass=False)
            for i, clip in enumerate(corpus.clips):
                group = "cmu" if clip.source == "cmu" else "bandai-namco"
                walk = is_walk(group, clip.subject, clip.activity)
                if group != "cmu" and not walk:
                    continue
                poses, transl = (x.numpy() for x in corpus.clip(i))
                pts = raw.points(clip.source, clip.name, clip.subject, clip.fps)[: len(poses)]
                checks.add(group, clip.name, walk, split, poses, transl, pts, clip.fps)
    problems = checks.problems()
    return {**checks.summary(), "passed": not problems, "problems": problems}


def main(argv: list[str] | None = None) -> int:
    from humanlib.provenance import git_commit, machine_description

    p = argparse.ArgumentParser(prog="python -m humanlib.data.measure_corpus", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", action="append", required=True, metavar="NAME=DIR",
                   help="a corpus folder to measure, named (e.g. before=humanlib/assets/corpus)")
    p.add_argument("--raw", required=True, help="folder with the raw archives (or unpacked subjects/ and dataset/)")
    p.add_argument("--out", required=True, help="results JSON file to write")
    args = p.parse_args(argv)
    t0 = time.time()
    results = {}
    for item in args.corpus:
        name, sep, folder = item.partition("=")
        if not sep:
            p.error(f"--corpus takes NAME=DIR; got {item!r}")
        results[name] = {"corpus": folder, **measure_corpus(folder, args.raw)}
    out = {
        "command": "python -m humanlib.data.measure_corpus " + " ".join(sys.argv[1:] if argv is None else argv),
        "commit": git_commit(), "machine": machine_description(),
        "measured_at_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "seconds": round(time.time() - t0, 1),
        "what": "clips measured: every CMU clip (feet, jumps) and every Bandai-Namco walk clip; walking = CMU "
                "subject 03 against Bandai-Namco 'walk' (spread: its train walks against its val + test walks)",
        **results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
