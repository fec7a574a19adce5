"""Figure of the open SMPL-X-layout model's left hand: vertices coloured by their finger joint,
seen from above with flat fingers and from the side with every phalanx bent.

    .venv/bin/python tools/plot_open_hand_x.py --out results/open_smplx/hand.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from humanlib.body import load_body_model, open_smplx_model_file  # noqa: E402
from humanlib.bodybuild_smplx import FINGERS, SMPLX_JOINT_NAMES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/open_smplx/hand.png")
    out = Path(parser.parse_args().out)
    model = load_body_model(open_smplx_model_file(), layout="native")
    first = SMPLX_JOINT_NAMES.index("left_index1")
    hand = model.weights[:, first:first + 15]
    on_hand = hand.sum(1) > 0.5
    finger = hand[on_hand].reshape(-1, 5, 3).sum(2).argmax(1)  # which of the five fingers
    pose = torch.zeros(1, 55, 3)
    pose[0, first:first + 15, 2] = -0.5  # flexion about Z (the left fingers point along +X)
    flat = model().vertices[0, on_hand]
    bent = model(pose=pose).vertices[0, on_hand]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    middle = finger == FINGERS.index("middle")
    axes[1].scatter(flat[middle, 0], flat[middle, 1], s=1, color="0.75", label="flat")
    for ax, verts, (a, b), title, shown in (
            (axes[0], flat, (0, 2), "flat, from above (x, z)", FINGERS),
            (axes[1], bent, (0, 1), "middle finger: flat (grey), each phalanx bent 0.5 rad", ("middle",))):
        for k, name in enumerate(FINGERS):
            if name not in shown:
                continue
            sel = finger == k
            ax.scatter(verts[sel, a], verts[sel, b], s=1, label=name)
        ax.set_aspect("equal")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("m")
    axes[0].legend(markerscale=8, fontsize=8, loc="lower left")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    tmp.replace(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
