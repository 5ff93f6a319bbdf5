"""Torch datasets over the feature cache: sub-clips of log-mel, RGB or flow with their targets.

Every item is one sub-clip of one video (SPEC 5: "a mini-batch is one random sub-clip of one random
video"). Training items pick a random sub-clip of their video each time; validation items are every
sub-clip of every video, in order.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ipd.data.clips import subclip_starts
from ipd.data.index import VideoEntry
from ipd.errors import InputError
from ipd.evaluation.predictions import Prediction, load_prediction, match_frames
from ipd.features import cache as feature_store
from ipd.features.params import ExtractParams
from ipd.features.reader import Features, open_features
from ipd.labels import LabelSpace
from ipd.timebase import SOUND_STRIDE


OPEN_VIDEOS = 128  # feature files a dataset keeps open (opening one costs as much as a read)


class _ClipDataset(Dataset):
    """Shared bookkeeping: which videos, which sub-clips, train (random) or eval (all)."""

    stream: str

    def __init__(
        self,
        entries: Sequence[VideoEntry],
        cache: str | Path,
        params: ExtractParams,
        labels: LabelSpace,
        clip_frames: int,
        max_seconds: float | None,
        train: bool,
        clips_per_video: int = 1,
    ) -> None:
        if clips_per_video < 1:
            raise ValueError(f"clips_per_video must be at least 1, got {clips_per_video}")
        self.cache, self.params, self.labels = feature_store.location(cache), params, labels
        self.clip_frames, self.train = clip_frames, train
        self._features: OrderedDict[str, Features] = OrderedDict()
        self.videos: list[tuple[VideoEntry, list[int]]] = []
        for entry in entries:
            with self._open(entry.video_id) as feats:
                frames = self._complete_frames(feats)
            starts = subclip_starts(frames, clip_frames, max_seconds)
            if train:
                # Random training crops need a whole sub-clip; shorter videos are only validated.
                starts = [s for s in starts if s + clip_frames <= frames]
            if starts:
                self.videos.append((entry, starts))
        if not self.videos:
            raise InputError(f"{self.cache}: no {self.stream} sub-clips for the given videos")
        # Training: ``clips_per_video`` random sub-clips of every video per epoch; evaluation:
        # every sub-clip once.
        self.items = (
            [(v, None) for v in range(len(self.videos)) for _ in range(clips_per_video)]
            if train
            else [(v, s) for v, (_, starts) in enumerate(self.videos) for s in starts]
        )

    def _open(self, video_id: str) -> Features:
        return open_features(self.cache, video_id, (self.stream,), self.params)

    def _kept_open(self, video_id: str) -> Features:
        """The video's features, from the last :data:`OPEN_VIDEOS` opened (least recent closed)."""
        if video_id in self._features:
            self._features.move_to_end(video_id)
        else:
            self._features[video_id] = self._open(video_id)
            if len(self._features) > OPEN_VIDEOS:
                self._features.popitem(last=False)[1].close()
        return self._features[video_id]

    def _complete_frames(self, feats: Features) -> int:
        """Analysis frames whose whole input is stored (all of them for rgb and flow)."""
        return feats.num_frames

    def __len__(self) -> int:
        return len(self.items)

    def _pick(self, index: int) -> tuple[VideoEntry, int]:
        v, start = self.items[index]
        entry, starts = self.videos[v]
        if start is None:
            start = starts[int(torch.randint(len(starts), ()).item())]
        return entry, start


class SoundClips(_ClipDataset):
    """Multi-scale log-mel sub-clips with video tags.

    Item: ``{"mels": [(128, 16 n) float32 per scale], "tags": (G,) float32, "video_id": str}`` for
    analysis frames ``[start, start + n)`` (mel frames ``[16 start, 16 (start + n))``).
    """

    stream = "audio"

    def __init__(self, *args, windows: Sequence[int], **kwargs) -> None:
        self.windows = tuple(windows)
        super().__init__(*args, **kwargs)

    def _complete_frames(self, feats: Features) -> int:
        # The last analysis frames of a video lack some of their 16 mel frames (the audio ends
        # at the video's end, analysis frame k covers mel frames [16k, 16k + 16)).
        return min(feats.num_frames, int(feats.meta["audio"]["num_mel_frames"]) // SOUND_STRIDE)

    def __getitem__(self, index: int) -> dict:
        entry, start = self._pick(index)
        feats = self._kept_open(entry.video_id)
        stop = min(start + self.clip_frames, feats.num_frames)
        mels = [feats.logmel(w, start, stop).T.copy() for w in self.windows]
        length = min(m.shape[1] for m in mels)
        if self.train and length < SOUND_STRIDE * self.clip_frames:
            raise InputError(f"{entry.video_id}: audio shorter than its video frames")
        return {
            "mels": [torch.from_numpy(m[:, :length]) for m in mels],
            "tags": torch.from_numpy(entry.tag_vector(self.labels)),
            "video_id": entry.video_id,
        }


class FrameClips(_ClipDataset):
    """RGB or flow sub-clips with video tags and, when given, stored teacher outputs.

    Item: ``{"x": (n, C, H, W) float32, "tags": (n, G), "sound": (n, G), "objects": (n, G, h, w),
    "video_id": str, "start": int}`` — ``C`` is 3 (RGB, 0-255) or 10 (flow stack, pixels);
    ``sound``/``objects`` only when the teacher folders are given (probabilities, not binarised).
    """

    def __init__(
        self,
        *args,
        stream: str,
        sound_teacher: str | Path | None = None,
        object_teacher: str | Path | None = None,
        **kwargs,
    ) -> None:
        if stream not in ("rgb", "flow"):
            raise ValueError(f"FrameClips reads 'rgb' or 'flow', not {stream!r}")
        self.stream = stream
        self.teachers = {
            key: Path(folder)
            for key, folder in (("sound", sound_teacher), ("objects", object_teacher))
            if folder is not None
        }
        self._teacher_cache: dict[tuple[str, str], np.ndarray] = {}
        super().__init__(*args, **kwargs)

    def __getitem__(self, index: int) -> dict:
        entry, start = self._pick(index)
        feats = self._kept_open(entry.video_id)
        stop = min(start + self.clip_frames, feats.num_frames)
        if self.stream == "rgb":
            x = feats.rgb(start, stop).transpose(0, 3, 1, 2).astype(np.float32)
        else:
            x = feats.flow(start, stop)
        times = feats.times[start:stop]
        n = len(times)
        item = {
            "x": torch.from_numpy(np.ascontiguousarray(x)),
            "tags": torch.from_numpy(np.tile(entry.tag_vector(self.labels), (n, 1))),
            "video_id": entry.video_id,
            "start": start,
        }
        for key in self.teachers:
            item[key] = torch.from_numpy(self._teacher(key, entry.video_id, times))
        return item

    def _teacher(self, key: str, video_id: str, times: np.ndarray) -> np.ndarray:
        """Teacher values at ``times``: sound ``(n, G)`` or object maps ``(n, G, h, w)``."""
        if (key, video_id) not in self._teacher_cache:
            pred = load_prediction(self.teachers[key] / f"{video_id}.npz")
            self._teacher_cache[(key, video_id)] = (pred, _teacher_values(pred, key, self.labels))
        pred, values = self._teacher_cache[(key, video_id)]
        return values[match_frames(pred.times, times, pred.where)]


def _teacher_values(pred: Prediction, key: str, labels: LabelSpace) -> np.ndarray:
    """The teacher's outputs re-ordered to ``labels`` (a teacher may cover other label sets)."""
    order = [pred.channel(name) for name in labels.names]
    if key == "sound":
        return pred.frame_scores()[:, order].astype(np.float32)
    if pred.maps is None:
        raise InputError(f"{pred.where}: object teacher has no spatial maps")
    return pred.maps[:, order].astype(np.float32)


def collate_clips(items: list[dict]) -> dict:
    """Stack items into ``(B, n, ...)`` tensors (a batch's clips share ``n`` and frame size)."""
    batch: dict = {}
    for key, value in items[0].items():
        if key == "mels":
            batch[key] = [torch.stack([it[key][s] for it in items]) for s in range(len(value))]
        elif isinstance(value, torch.Tensor):
            batch[key] = torch.stack([it[key] for it in items])
        else:
            batch[key] = [it[key] for it in items]
    return batch


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


class LabelledImages(Dataset):
    """Image-classification folders ``root/<Label>/*.jpg`` (ImageNet style): one image per item.

    The folder name is the image's instrument (label-space name, case-insensitive). Each image is
    resized so that its shorter side is ``size`` and centre-cropped to ``size x size``.
    Item: ``{"x": (1, 3, size, size) float32 RGB 0-255, "tags": (1, G) one-hot, "video_id": str}``
    (a one-frame "sub-clip", so the object localiser trains on it unchanged).

    Raises:
        InputError: missing folder, a folder that is not a label, no images.
    """

    def __init__(self, root: str | Path, labels: LabelSpace, size: int) -> None:
        self.root, self.labels, self.size = Path(root), labels, size
        if not self.root.is_dir():
            raise InputError(f"{self.root}: image folder not found")
        self.items: list[tuple[Path, int]] = []
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            try:
                g = labels.index(folder.name)
            except KeyError:
                raise InputError(f"{folder}: folder name is not an instrument of the label space "
                                 f"{labels.names}") from None  # fmt: skip
            files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            self.items += [(path, g) for path in files]
        if not self.items:
            raise InputError(f"{self.root}: no images in <Label>/ sub-folders")

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        import cv2

        path, g = self.items[index]
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise InputError(f"{path}: not a readable image")
        h, w = bgr.shape[:2]
        s = self.size / min(h, w)
        nh, nw = max(self.size, round(h * s)), max(self.size, round(w * s))
        bgr = cv2.resize(bgr, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        top, left = (nh - self.size) // 2, (nw - self.size) // 2
        rgb = cv2.cvtColor(bgr[top : top + self.size, left : left + self.size], cv2.COLOR_BGR2RGB)
        tags = np.zeros((1, len(self.labels)), np.float32)
        tags[0, g] = 1.0
        return {
            "x": torch.from_numpy(rgb.transpose(2, 0, 1)[None].astype(np.float32)),
            "tags": torch.from_numpy(tags),
            "video_id": path.stem,
        }
