r"""The experiments' motion windows: where they start, balanced and evenly spaced subsets, cutting clips.

A corpus's clips are cut into :class:`Windows`.

:mod:`humanlib.experiments.protocol` re-exports every name here (and :mod:`humanlib.experiments` documents them).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from humanlib._validate import check_positive, check_same_device, check_tensor
from humanlib.skeleton import NUM_JOINTS


# --------------------------------------------------------------------------- windows


def window_starts(num_frames: int, length: int, stride: int | None = None) -> list[int]:
    """Start frames of the windows of ``length`` frames inside a clip of ``num_frames``.

    Args:
        num_frames: frames in the clip.
        length: frames per window (>= 2: the smoothness term needs neighbours).
        stride: step between starts (default ``length``: windows do not overlap).

    Raises:
        TypeError: a count that is not an integer.
        ValueError: ``length`` or ``stride`` out of range, or the window is longer than the clip.
    """
    check_positive(num_frames, "num_frames", integer=True, allow_zero=True)
    check_positive(length, "length", integer=True)
    if stride is not None:
        check_positive(stride, "stride", integer=True)
    if length < 2:
        raise ValueError(f"window length must be >= 2 frames, got {length}")
    stride = length if stride is None else stride
    if stride < 1:
        raise ValueError(f"window stride must be >= 1, got {stride}")
    if length > num_frames:
        raise ValueError(f"a window of {length} frames is longer than the clip ({num_frames} frames)")
    return list(range(0, num_frames - length + 1, stride))


def evenly_spaced(total: int, count: int | None) -> list[int]:
    """``count`` indices spread evenly over ``range(total)`` (all of them when ``count`` is None
    or >= ``total``): a fixed subset that samples every part of a split, no random draw.

    Raises:
        TypeError, ValueError: ``total`` not an integer >= 0, or ``count`` not an integer >= 1.
    """
    check_positive(total, "total", integer=True, allow_zero=True)
    if count is not None:
        check_positive(count, "count", integer=True)
    if count is None or count >= total:
        return list(range(total))
    if count == 1:
        return [0]
    return sorted({round(i * (total - 1) / (count - 1)) for i in range(count)})


@dataclass
class Windows:
    """Windows of motion, all of the same length.

    Attributes:
        poses: ``(W, T, 24, 3)`` axis-angle, root first.
        transl: ``(W, T, 3)`` root translation, metres.
        clip_names: the clip of each window.
        starts: the first frame of each window within its clip.
        fps: frame rate.

    Raises:
        TypeError, ValueError: tensors of the wrong type, shape or device, non-finite values,
            ``clip_names`` / ``starts`` not one per window, or ``fps`` not > 0.
    """

    poses: torch.Tensor
    transl: torch.Tensor
    clip_names: list[str]
    starts: list[int]
    fps: float

    def __post_init__(self) -> None:
        check_tensor(self.poses, "Windows.poses", (None, None, NUM_JOINTS, 3),
                     hint="(windows, frames, joints, axis-angle)")
        w, t = self.poses.shape[:2]
        check_tensor(self.transl, "Windows.transl", (w, t, 3), hint="(windows, frames, xyz), one per pose")
        check_same_device(self.poses, "Windows.poses", transl=self.transl)
        for name in ("clip_names", "starts"):
            if not isinstance(getattr(self, name), (list, tuple)):
                raise TypeError(f"Windows.{name} must be a list with one entry per window; "
                                f"got {type(getattr(self, name)).__name__}")
            if len(getattr(self, name)) != w:
                raise ValueError(f"Windows.{name} must have one entry per window ({w}); got {len(getattr(self, name))}")
        check_positive(self.fps, "Windows.fps")

    def __len__(self) -> int:
        return int(self.poses.shape[0])

    @property
    def length(self) -> int:
        return int(self.poses.shape[1])

    def subset(self, indices: Sequence[int]) -> Windows:
        """The windows at ``indices`` (in that order).

        Raises:
            TypeError: an index that is not an integer.
            IndexError: an index out of range.
        """
        n, idx = len(self), []
        for i in indices:
            try:
                k = operator.index(i) if not isinstance(i, bool) else None
            except TypeError:
                k = None
            if k is None:
                raise TypeError(f"window indices must be integers; got {i!r}")
            if not -n <= k < n:
                raise IndexError(f"window index {k} is out of range for {n} windows")
            idx.append(k)
        return Windows(self.poses[idx], self.transl[idx], [self.clip_names[i] for i in idx],
                       [self.starts[i] for i in idx], self.fps)

    def ids(self) -> list[str]:
        """``"<clip>@<start>"`` of each window (recorded in results files)."""
        return [f"{n}@{s}" for n, s in zip(self.clip_names, self.starts)]


def balanced_subset(groups: Sequence[str], count: int | None) -> list[int]:
    """``count`` indices of ``range(len(groups))``, shared out as equally as the groups allow.

    Each group gets ``count // G`` (the first groups in sorted order one more for the remainder),
    a group with fewer items gives what it cannot use to the others; inside a group the indices
    are :func:`~humanlib.experiments.evenly_spaced`. Returned in increasing order. With ``count`` None or at least the
    number of items, every index.

    Raises:
        TypeError: ``groups`` is not a sequence of str.
        ValueError: ``count`` not an integer >= 1.
    """
    if isinstance(groups, (str, bytes)) or not all(isinstance(g, str) for g in groups):
        raise TypeError(f"groups must be a sequence of str (one group name per item); got {groups!r:.80}")
    if count is not None:
        check_positive(count, "count", integer=True)
    if count is None or count >= len(groups):
        return list(range(len(groups)))
    members = {g: [i for i, x in enumerate(groups) if x == g] for g in sorted(set(groups))}
    share = dict.fromkeys(members, 0)
    left = count
    while left:  # one round: every group that still has items gets one more
        open_groups = [g for g in members if share[g] < len(members[g])]
        for g in open_groups[:left]:
            share[g] += 1
        left -= min(left, len(open_groups))
    return sorted(members[g][k] for g in members for k in evenly_spaced(len(members[g]), share[g]) if share[g])


def cut_windows(clips: Sequence[tuple[str, torch.Tensor, torch.Tensor]], length: int, fps: float,
                stride: int | None = None, max_windows: int | None = None,
                groups: Mapping[str, str] | None = None) -> Windows:
    """Cut clips into windows of ``length`` frames (clips shorter than a window are skipped).

    Args:
        clips: ``(name, poses (T, 24, 3), transl (T, 3))`` per clip.
        length: frames per window.
        fps: the clips' frame rate (recorded).
        stride: step between window starts (default ``length``).
        max_windows: keep this many windows, evenly spaced over all of them
            (``humanlib.experiments.protocol.evenly_spaced``; the same subset on every run).
        groups: clip name -> group (e.g. the corpus source); with ``max_windows``, the windows
            are shared out equally over the groups (:func:`~humanlib.experiments.balanced_subset`), so that a small
            source is not left with one window. Clips missing from it form the group ``"?"``.

    Raises:
        TypeError: a clip that is not a ``(name, poses, transl)`` tuple of tensors.
        ValueError: no clips, no clip as long as one window, a clip of the wrong shape or with
            non-finite values, or ``length`` / ``fps`` / ``stride`` / ``max_windows`` out of range.
    """
    check_positive(length, "length", integer=True)
    if length < 2:
        raise ValueError(f"window length must be >= 2 frames, got {length}")
    check_positive(fps, "fps")
    if stride is not None:
        check_positive(stride, "stride", integer=True)
    if max_windows is not None:
        check_positive(max_windows, "max_windows", integer=True)
    if isinstance(clips, (str, bytes, torch.Tensor)) or not hasattr(clips, "__iter__"):
        raise TypeError(f"clips must be a list of (name, poses (T, {NUM_JOINTS}, 3), transl (T, 3)) tuples "
                        f"(humanlib.experiments.protocol.corpus_clips gives them); got {type(clips).__name__}")
    clips = list(clips)
    if not clips:
        raise ValueError(f"clips is empty; give at least one (name, poses (T, {NUM_JOINTS}, 3), transl (T, 3)) clip")
    poses, transl, names, starts = [], [], [], []
    longest = 0
    for item in clips:
        if not isinstance(item, (tuple, list)) or len(item) != 3:
            raise TypeError(f"each clip must be a (name, poses (T, {NUM_JOINTS}, 3), transl (T, 3)) tuple; "
                            f"got {type(item).__name__}" + (f" of length {len(item)}" if isinstance(item, (tuple, list)) else ""))
        name, p, t = item
        check_tensor(p, f"clip {name!r} poses", (None, NUM_JOINTS, 3), hint="(frames, joints, axis-angle)")
        check_tensor(t, f"clip {name!r} transl", (p.shape[0], 3), hint="(frames, xyz), one per pose")
        check_same_device(clips[0][1], "the first clip", **{f"clip {name!r} poses": p, f"clip {name!r} transl": t})
        longest = max(longest, p.shape[0])
        if p.shape[0] < length:
            continue
        for s in window_starts(p.shape[0], length, stride):
            poses.append(p[s:s + length])
            transl.append(t[s:s + length])
            names.append(name)
            starts.append(s)
    if not poses:
        raise ValueError(f"a window of {length} frames is longer than every clip (the longest has {longest} frames)")
    windows = Windows(torch.stack(poses), torch.stack(transl), names, starts, fps)
    if groups is not None:
        if not isinstance(groups, Mapping):
            raise TypeError(f"groups must be a dict clip name -> group name; got {type(groups).__name__}")
        return windows.subset(balanced_subset([str(groups.get(n, "?")) for n in names], max_windows))
    return windows.subset(evenly_spaced(len(windows), max_windows))


def corpus_clips(corpus) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """``(name, poses, transl)`` of every clip of a :class:`humanlib.data.MotionCorpus`.

    Raises:
        TypeError: ``corpus`` is not a ``MotionCorpus``.
    """
    from humanlib.data import MotionCorpus

    if not isinstance(corpus, MotionCorpus):
        raise TypeError(f"corpus must be a humanlib.data.MotionCorpus (from humanlib.data.load_corpus); "
                        f"got {type(corpus).__name__}")
    return [(c.name, *corpus.clip(i)) for i, c in enumerate(corpus.clips)]
