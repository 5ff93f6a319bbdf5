"""The sound tagger: trains a sound FCN on clips with video-level tags (SPEC 5, stage 1)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ipd.systems.base import ClipSystem, OptimizerCallable

EPS = 1e-7


def _adagrad(params) -> torch.optim.Optimizer:
    return torch.optim.Adagrad(params, lr=0.01)


class SoundTagger(ClipSystem):
    """BCE between the clip output (mean over time of the frame sigmoids) and the video tags.

    The net takes standardized log-mel maps ``[(B, 128, T)] * scales`` and provides
    ``predict(mels) -> (frame probs (B, G, T'), clip probs (B, G))`` (``SoundFCN`` and the
    chapter-3 clip2frame FCN both do). Per-band standardization statistics live in this module's
    buffers, so a checkpoint carries them: they are taken from the datamodule's training set at the
    start of the first fit (``feature_stats()``), or set with :meth:`set_standardizer`.

    Args:
        net: the sound network.
        optimizer: optimiser factory (paper: AdaGrad, lr 0.01).
        num_classes: G.
        num_scales: number of log-mel inputs.
        n_mels: mel bands per input.
    """

    role = "sound model"

    def __init__(
        self,
        net: nn.Module,
        optimizer: OptimizerCallable = _adagrad,
        num_classes: int = 9,
        num_scales: int = 3,
        n_mels: int = 128,
    ) -> None:
        super().__init__(net, optimizer, num_classes)
        self.register_buffer("mel_mean", torch.zeros(num_scales, n_mels))
        self.register_buffer("mel_std", torch.ones(num_scales, n_mels))
        self.register_buffer("standardizer_set", torch.tensor(False))

    def set_standardizer(self, mean: Tensor, std: Tensor) -> None:
        """Per-scale, per-band statistics ``(scales, n_mels)`` used as ``(x - mean) / std``."""
        self.mel_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.mel_std.copy_(torch.as_tensor(std, dtype=torch.float32).clamp_min(1e-8))
        self.standardizer_set.fill_(True)

    def on_fit_start(self) -> None:
        if not bool(self.standardizer_set):
            datamodule = self.trainer.datamodule
            mean, std = datamodule.feature_stats()
            self.set_standardizer(mean, std)

    def forward(self, mels: list[Tensor]) -> tuple[Tensor, Tensor]:
        """Raw log-mel ``[(B, 128, T)] * scales`` -> frame probs ``(B, G, T')``, clip ``(B, G)``."""
        standard = [
            (m - self.mel_mean[s, :, None]) / self.mel_std[s, :, None] for s, m in enumerate(mels)
        ]
        return self.net.predict(standard)

    def _loss(self, batch: dict) -> tuple[Tensor, Tensor]:
        _, clip = self(batch["mels"])
        loss = F.binary_cross_entropy(clip.clamp(EPS, 1 - EPS), batch["tags"])
        return clip, loss

    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        _, loss = self._loss(batch)
        batch_size = len(batch["tags"])
        self.log(
            "train/loss", loss, batch_size=batch_size, prog_bar=True, on_epoch=True, sync_dist=True
        )
        return loss

    def clip_scores(self, batch: dict) -> tuple[Tensor, Tensor]:
        return self._loss(batch)
