"""The corpus README, written by the build so that it always matches the data."""

from __future__ import annotations


#: Keys :func:`corpus_readme` reads from the manifest and the report.
MANIFEST_KEYS = ("split_fps", "split_rules")
REPORT_KEYS = ("counts", "direction_error_deg", "command", "built_at_utc", "machine", "build_seconds", "target_body")


def corpus_readme(manifest: dict, report: dict) -> str:
    """The corpus README (Markdown) from the build's manifest and retargeting report.

    Long: one Markdown page written top to bottom as a template; split, the page would be read in pieces.

    Raises:
        TypeError: ``manifest`` or ``report`` is not a dict.
        ValueError: a key the README needs is missing (named).
    """
    for name, value, keys in (("manifest", manifest, MANIFEST_KEYS), ("report", report, REPORT_KEYS)):
        if not isinstance(value, dict):
            raise TypeError(f"{name} must be a dict (as build_corpus writes it); got {type(value).__name__}")
        missing = [k for k in keys if k not in value]
        if missing:
            raise ValueError(f"{name} lacks the keys {missing}; pass the dicts build_corpus writes "
                             "(manifest.json and retarget_report.json)")
    counts = report["counts"]
    rows = []
    for split, groups in counts.items():
        for group, c in groups.items():
            rows.append(f"| {split} | {group} | {c['clips']} | {c['frames']:,} | {manifest['split_fps'][split]:g} |")
    val = report["direction_error_deg"]
    vrows = []
    for group, g in val.items():
        vrows.append(f"| {group} | {g['all_bones_mean']:.2f} | {g['all_bones_p95']:.2f} |")
    rules = manifest["split_rules"]
    return f"""# The open motion corpus (derived data)

SMPL 24-joint poses retargeted from two openly licensed motion-capture collections. Built by
`{report['command']}` on {report['built_at_utc']} ({report['machine']}; {report['build_seconds']} s),
calibrated against: {report['target_body']}. Load it with `humanlib.data.load_corpus(split)`.

## Attribution and licences

* **CMU Graphics Lab Motion Capture Database**, subjects 01 and 03. "The data used in this project
  was obtained from mocap.cs.cmu.edu. The database was created with funding from NSF EIA-0196217."
  Free for research and commercial use; may be redistributed, not resold.
* **Bandai-Namco-Research-Motiondataset 1 and 2** by Bandai Namco Research Inc., licensed under
  **CC BY-NC 4.0** (https://creativecommons.org/licenses/by-nc/4.0/): attribution, non-commercial use
  only. We changed the data: retargeted to SMPL's joints, resampled, quantised to float16.

Because of the Bandai-Namco part, **the corpus as a whole may be used for non-commercial purposes
only**. Each clip's licence is in its metadata (`ClipInfo.licence`).

## Contents

| split | source | clips | frames | fps |
|---|---|---|---|---|
{chr(10).join(rows)}

Files: `manifest.json` (shards, split rules, the target rest joints), `{'{split}-{source}-NN.npz'}` shards
(`poses` (N, 22, 3) float16 axis-angle of SMPL joints 0..21, `transl` (N, 3) float32 metres,
`clips` JSON metadata: name, source, subject, style, activity, licence, fps, num_frames),
`retarget_report.json` (validation). SMPL's hand joints 22 and 23 are not stored: always at rest.
Poses are in SMPL's frame (Y up, +Z forward, +X the body's left) relative to SMPL's T-pose. `transl`
puts the target body's hip midpoint on the source's, scaled by the ratio of leg lengths (target body /
source actor, per source in the report), then shifts each clip up or down once so that its lowest foot
point sits where the source's does.

## Splits (fixed rules, no randomness)

* **test**: CMU subjects {', '.join(rules['test']['cmu_subjects'])} (whole subject); Bandai-Namco styles
  {', '.join(rules['test']['bandai_styles'])} (whole styles, both datasets). Used only for final numbers.
* **val**: CMU clips {', '.join(rules['val']['cmu_clips'])} (same subject as training: a by-clip split);
  Bandai-Namco styles {', '.join(rules['val']['bandai_styles'])} (whole styles).
* **train**: everything else.

The Bandai-Namco datasets do not say which performer recorded which clip, so whole *styles* are held
out as the closest available guard against leakage; a performer may still appear in several splits.
Train and val are stored at 10 fps (every third 30 fps frame), test at 30 fps.

## Retargeting and its validation

Joint frames of each source are calibrated against the target body's rest joints (CMU: its ASF
zero pose is a T-pose; Bandai-Namco: a standing frame; for both, each joint's twist snapped to the
same anatomical axis; the pelvis by its hip line, so that an upright pelvis stays upright; CMU's
clavicles, which start where SMPL's spine3 is, on SMPL's spine3-to-shoulder segment), then SMPL's
global rotation of joint j is the driving source joint's frame times the calibration, and local
rotations follow. Joints a source lacks stay at rest: SMPL's hands (22, 23) and `spine2` for both
(one spine convention); no source has fingers. Source glitches (a joint turning faster than
3000 deg/s and coming back within 0.25 s, e.g. CMU's right wrist flipping by ~180 deg) are
replaced by slerp across them.

Mean joint-direction error (degrees) between the source skeleton's forward kinematics and the SMPL
skeleton driven by the stored poses, over all validated bones and frames (per-bone numbers in
`retarget_report.json`):

| source | mean | p95 |
|---|---|---|
{chr(10).join(vrows)}

Bones that are driven by their own source joint are reproduced almost exactly; the residual error
sits in bones whose direction the source skeleton places differently from SMPL (pelvis-to-hip
offsets, the spine joint a source lacks, CMU's lower back absorbed into the pelvis).
{_consistency_section(report)}"""


def _consistency_section(report: dict) -> str:
    """The README's source-consistency section ('' for a report without one)."""
    c = report.get("consistency")
    if not isinstance(c, dict) or "walking" not in c:
        return ""
    rows = [f"| {g} | {v['cross_deg']:.1f} | {v['spread_deg']:.1f} | {'yes' if v['passed'] else 'no'} |"
            for g, v in c["walking"].get("groups_worst_joint", {}).items()]
    feet = [f"| {g} | {v['floor_minus_source_m']['min']:+.3f} .. {v['floor_minus_source_m']['max']:+.3f} | "
            f"{v['sliding_ratio']['pooled']} |" for g, v in c.get("feet", {}).items()]
    problems = "".join(f"\n* {p}" for p in c.get("problems", [])) or "\nnone"
    return f"""
## Source consistency

The same activity should give the same rotations whichever source it came from. Walking (CMU
subject 03 against Bandai-Namco's `walk` clips): per joint group, the worst joint's angle between
the two sources' mean rotations, against the angle between Bandai-Namco's own train and held-out
walks (a joint passes within 5 degrees of that spread):

| joints | across sources (deg) | within Bandai-Namco (deg) | passed |
|---|---|---|---|
{chr(10).join(rows)}

Part of the difference is the activity, not the retargeting: CMU subject 03 walks on uneven
terrain (limb angles from the source's own joint positions, in `retarget_report.json`). The feet
against the source's (lowest foot point, metres; sliding speed in ground contact, ratio):

| source | floor - source's floor | sliding ratio |
|---|---|---|
{chr(10).join(feet)}

Checks that miss their target:{problems}
"""
