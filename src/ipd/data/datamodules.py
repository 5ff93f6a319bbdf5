"""LightningDataModules of the three stages; typed ``__init__`` arguments are the config schema.

Each reads a dataset's ``index.csv`` (train and val splits) and the feature cache written by
``ipd extract`` with the same extraction settings (``windows`` / ``size`` / ``flow``).
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
from lightning.pytorch.overrides.distributed import UnrepeatedDistributedSampler
from torch.utils.data import DataLoader, Dataset, Sampler

from ipd.data.datasets import FrameClips, LabelledImages, SoundClips, collate_clips
from ipd.data.index import VideoEntry, read_index
from ipd.features import cache as feature_store
from ipd.features.audio import DEFAULT_WINDOWS
from ipd.features.params import ExtractParams
from ipd.features.reader import open_features
from ipd.labels import LabelSpace, load_label_space


class _Loaders(L.LightningDataModule):
    """Training and validation loaders of ``train_set`` / ``val_set`` (set in ``setup``).

    Under DDP (``trainer.strategy=ddp``, several devices or nodes) Lightning shards the training
    loader with its ``DistributedSampler`` (shuffled per epoch, padded so that every rank runs
    the same number of steps). The validation loader is sharded here without padding: rank r of
    n validates items r, r + n, r + 2n, ... (the last batches may differ by one), so the clip
    AUC that torchmetrics gathers from all ranks counts every validation sub-clip once and
    equals the AUC of one process (tests/test_ddp.py).
    """

    train_set: Dataset | None = None
    val_set: Dataset | None = None
    num_workers: int = 0

    def loader_batch_size(self, train: bool) -> int:
        raise NotImplementedError

    def _loader(self, dataset: Dataset, train: bool) -> DataLoader:
        return DataLoader(
            dataset,
            batch_size=self.loader_batch_size(train),
            shuffle=train,
            sampler=None if train else self._validation_shard(dataset),
            num_workers=self.num_workers,
            collate_fn=collate_clips,
            persistent_workers=self.num_workers > 0,
        )

    def _validation_shard(self, dataset: Dataset) -> Sampler | None:
        """This rank's share of ``dataset``, no item repeated (None: one process).

        Lightning's ``DistributedSampler`` would pad the validation set with repeated items to
        give every rank equal batches, and the gathered AUC would count those twice. Uneven
        validation is safe: no collective runs per validation batch (DDP syncs buffers on the
        first one only, which every rank has), torchmetrics gathers states of unequal length.
        """
        trainer = self.trainer
        kwargs = trainer.distributed_sampler_kwargs if trainer is not None else None
        if not kwargs or kwargs.get("num_replicas", 1) < 2:
            return None
        return UnrepeatedDistributedSampler(dataset, shuffle=False, **kwargs)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, train=False)


class _StageData(_Loaders):
    def __init__(
        self,
        dataset: str,
        cache: str,
        labels: str | None,
        clips_per_batch: int,
        num_workers: int,
        max_seconds: float | None,
    ) -> None:
        super().__init__()
        self.dataset, self.cache = Path(dataset), feature_store.location(cache)
        self.labels: LabelSpace = load_label_space(labels)
        self.clips_per_batch, self.num_workers = clips_per_batch, num_workers
        self.max_seconds = max_seconds
        self.train_set = self.val_set = None

    def split(self, name: str) -> list[VideoEntry]:
        return read_index(self.dataset, name)

    def _clips(self, split: str, train: bool):
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        self.train_set = self._clips("train", train=True)
        self.val_set = self._clips("val", train=False)

    def loader_batch_size(self, train: bool) -> int:
        return self.clips_per_batch if train else 1


class SoundData(_StageData):
    """Log-mel sub-clips for the sound tagger (stage 1).

    Args:
        dataset: folder with ``index.csv``.
        cache: feature store (a folder or an fsspec URL).
        windows: STFT windows of the log-mel scales (must match the extraction).
        clip_frames: analysis frames per training clip (20 = 10.24 s, like AudioSet's 10-s clips).
        clips_per_batch: clips per training batch.
        labels: label-space YAML (default: annotations/instruments.yaml).
        num_workers: DataLoader worker processes.
        max_seconds: use only the first seconds of each video (None: all).
    """

    def __init__(
        self,
        dataset: str,
        cache: str,
        windows: tuple[int, ...] = DEFAULT_WINDOWS,
        clip_frames: int = 20,
        clips_per_batch: int = 8,
        labels: str | None = None,
        num_workers: int = 0,
        max_seconds: float | None = 60.0,
    ) -> None:
        super().__init__(
            dataset, cache, labels, clips_per_batch, num_workers, max_seconds
        )
        self.save_hyperparameters()  # checkpoints record the extraction settings they were fed
        self.params = ExtractParams(windows=windows)
        self.windows, self.clip_frames = tuple(windows), clip_frames

    def _clips(self, split: str, train: bool) -> SoundClips:
        return SoundClips(
            self.split(split), self.cache, self.params, self.labels, self.clip_frames,
            self.max_seconds, train, windows=self.windows,
        )  # fmt: skip

    def feature_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-scale, per-band mean and std ``(scales, 128)`` over all training-video frames."""
        sums = sq = count = 0
        for entry in self.split("train"):
            with open_features(self.cache, entry.video_id, ("audio",), self.params) as feats:
                maps = np.stack([feats.logmel_all(w).astype(np.float64) for w in self.windows])
            sums = sums + maps.sum(axis=1)
            sq = sq + (maps**2).sum(axis=1)
            count += maps.shape[1]
        mean = sums / count
        std = np.sqrt(np.maximum(sq / count - mean**2, 0.0))
        return mean.astype(np.float32), std.astype(np.float32)


class FrameData(_StageData):
    """RGB (object model) or flow (action model) sub-clips of 10 analysis frames.

    Args:
        dataset: folder with ``index.csv``.
        cache: feature store (a folder or an fsspec URL).
        stream: ``rgb`` (object model) or ``flow`` (action model).
        size: longer side of the extracted frames (must match the extraction).
        flow: flow algorithm of the extraction (``farneback``, ``dis``, ``tvl1``).
        sound_teacher: folder of stored sound-model outputs for these videos (ST, SOT).
        object_teacher: folder of stored object-model outputs for these videos (OT, SOT).
        clip_frames: analysis frames per sub-clip (paper: 10, i.e. 5 s).
        clips_per_batch: sub-clips per training batch (paper: 1 -> a batch of 10 frames).
        clips_per_video: random sub-clips drawn from every training video per epoch (paper: 1).
        labels: label-space YAML (default: annotations/instruments.yaml).
        num_workers: DataLoader worker processes.
        max_seconds: use only the first seconds of each video (paper: 60).
    """

    def __init__(
        self,
        dataset: str,
        cache: str,
        stream: str = "flow",
        size: int = 256,
        flow: str = "farneback",
        sound_teacher: str | None = None,
        object_teacher: str | None = None,
        clip_frames: int = 10,
        clips_per_batch: int = 1,
        clips_per_video: int = 1,
        labels: str | None = None,
        num_workers: int = 0,
        max_seconds: float | None = 60.0,
    ) -> None:
        super().__init__(
            dataset, cache, labels, clips_per_batch, num_workers, max_seconds
        )
        self.save_hyperparameters()  # checkpoints record the extraction settings they were fed
        self.clips_per_video = clips_per_video
        self.params = ExtractParams(size=size, flow=flow)
        self.stream, self.clip_frames = stream, clip_frames
        self.teachers = {"sound_teacher": sound_teacher, "object_teacher": object_teacher}

    def _clips(self, split: str, train: bool) -> FrameClips:
        return FrameClips(
            self.split(split), self.cache, self.params, self.labels, self.clip_frames,
            self.max_seconds, train, self.clips_per_video if train else 1,
            stream=self.stream, **(self.teachers if train else {}),
        )  # fmt: skip


class ImageData(_Loaders):
    """Labelled instrument images for pretraining the object model's Conv1-5 (``ipd train pretrain``).

    The paper starts Conv1-5 from an ImageNet classifier; this module feeds such a classification
    run from ``folder/train/<Label>/*.jpg`` and ``folder/val/<Label>/*.jpg`` (ImageNet's
    instrument classes, or the SynthIPA stand-in of ``ipd synth --object-crops``).

    Args:
        folder: image folder with ``train/`` and ``val/``.
        size: images are resized (shorter side) and centre-cropped to ``size x size`` px.
        batch_size: images per training batch.
        labels: label-space YAML (default: annotations/instruments.yaml).
        num_workers: DataLoader worker processes.
    """

    def __init__(
        self,
        folder: str,
        size: int = 112,
        batch_size: int = 32,
        labels: str | None = None,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.folder, self.size, self.images_per_batch = Path(folder), size, batch_size
        self.labels: LabelSpace = load_label_space(labels)
        self.num_workers = num_workers

    def setup(self, stage: str | None = None) -> None:
        self.train_set = LabelledImages(self.folder / "train", self.labels, self.size)
        self.val_set = LabelledImages(self.folder / "val", self.labels, self.size)

    def loader_batch_size(self, train: bool) -> int:
        return self.images_per_batch
