"""What the three systems share: the optimiser hook, clip-level AUC on validation, hparams."""

from __future__ import annotations

import warnings
from typing import ClassVar

import lightning as L
import torch
from lightning.pytorch.cli import OptimizerCallable
from torch import Tensor, nn
from torchmetrics.classification import MultilabelAUROC

__all__ = ["ClipSystem", "OptimizerCallable", "flatten_frames"]

# Reloading a checkpoint rebuilds ``net`` from its config before ``save_hyperparameters`` runs;
# the live module is dropped from hparams below, so Lightning's advice does not apply.
warnings.filterwarnings("ignore", message="Attribute 'net' is an instance of `nn.Module`")


class ClipSystem(L.LightningModule):
    """Base of the sound, object and action systems.

    Subclasses implement ``clip_scores(batch) -> (probs (B, G), loss)`` for validation and
    ``training_step``. Model selection is by ``val/auc``: the macro clip-level AUC of the sub-clip
    outputs against the video tags (SPEC 5; no frame labels exist for training or validation).
    ``role`` names the system in messages (``"action model"``).
    """

    role: ClassVar[str] = "model"

    def __init__(self, net: nn.Module, optimizer: OptimizerCallable, num_classes: int) -> None:
        super().__init__()
        # Built from a config (LightningCLI), ``net`` is saved as that config and a checkpoint
        # reloads with weights_only=True. A live module (built in Python) is never pickled.
        self.save_hyperparameters(ignore=["optimizer"])
        if isinstance(self.hparams.get("net"), nn.Module):
            self.hparams.pop("net")
        self.net = net
        self.optimizer = optimizer
        self.val_auc = MultilabelAUROC(num_labels=num_classes, average="macro")

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return self.optimizer(self.parameters())

    def clip_scores(self, batch: dict) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def validation_step(self, batch: dict, batch_idx: int) -> Tensor:
        probs, loss = self.clip_scores(batch)
        tags = batch["tags"] if batch["tags"].ndim == 2 else batch["tags"][:, 0]
        self.val_auc.update(probs, tags.long())
        # Lightning computes the metric at the end of the epoch and resets it; under DDP its
        # compute() gathers the outputs and tags of every rank first, so val/auc is the AUC of
        # the whole validation set, the same value on every rank (not a mean of per-rank AUCs).
        self.log("val/auc", self.val_auc, prog_bar=True)
        # The mean over all ranks' sub-clips (weighted by batch size; one process: no-op).
        self.log("val/loss", loss, batch_size=len(probs), prog_bar=True, sync_dist=True)
        return loss


def flatten_frames(x: Tensor) -> Tensor:
    """``(B, n, C, H, W) -> (B * n, C, H, W)``: the frames of a batch of sub-clips."""
    return x.reshape(-1, *x.shape[2:])
