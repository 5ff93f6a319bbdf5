"""The object localiser and the action localiser: VGG FCNs on RGB frames or flow stacks."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor, nn

from ipd.data.targets import Target, action_target
from ipd.evaluation.predictions import MapGrid
from ipd.systems.base import ClipSystem, OptimizerCallable, flatten_frames

MEAN_RGB = (123.51, 115.77, 102.72)  # the authors' mean image colour (scalers/mean_image.RGB.npy)


def _sgd(params) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=0.001, momentum=0.9)


class FrameSystem(ClipSystem):
    """A VGG FCN over the frames of sub-clips; the clip output is the max over frames and space."""

    def prepare(self, x: Tensor) -> Tensor:
        """Network input from stored features ``(N, C, H, W)``."""
        return x

    def forward(self, x: Tensor) -> Tensor:
        """Map logits ``(N, G, h, w)`` for frames ``(N, C, H, W)``."""
        return self.net(self.prepare(x))

    def maps(self, x: Tensor) -> Tensor:
        """Probability maps ``(N, G, h, w)`` (the ``O`` or ``A`` of SPEC 5)."""
        return torch.sigmoid(self(x))

    def map_grid(self, height: int, width: int) -> MapGrid | None:
        """Where the cells of the maps of a ``height x width`` input sit in it (None when the
        network does not state its geometry)."""
        geometry = getattr(self.net, "geometry", None)
        if geometry is None:
            return None
        return MapGrid(geometry.stride, geometry.offset, height, width)

    def clip_scores(self, batch: dict) -> tuple[Tensor, Tensor]:
        b, n = batch["x"].shape[:2]
        logits = self(flatten_frames(batch["x"]))
        frame_logits = logits.amax(dim=(-2, -1)).reshape(b, n, -1)
        clip_logits = frame_logits.amax(dim=1)  # (B, G)
        loss = F.binary_cross_entropy_with_logits(clip_logits, batch["tags"][:, 0])
        # fp32 probabilities under mixed precision: in bfloat16 every clip scored above ~0.996
        # would be 0.996 or 1.0, and the clip AUC would rank those as ties.
        return torch.sigmoid(clip_logits.float()), loss


class ObjectLocaliser(FrameSystem):
    """Object model: every frame of a tagged video is positive (VT-style, max-pooled map vs tag).

    Args:
        net: a ``VGGFCN`` with 3 input channels.
        optimizer: optimiser factory (paper: SGD, lr 0.001, momentum 0.9).
        num_classes: G.
        mean_rgb: colour subtracted from the 0-255 RGB input.
        input_scale: factor applied after the mean subtraction (1.0 = the authors' raw range).
        freeze_early_epochs: epochs with Conv1-5 frozen before all layers train (20 in the paper
            when starting from pretrained weights; 0 = no freezing). A net without pretrained
            Conv1-5 freezes nothing, and training says so.
        shift: training augmentation (not in the paper; 0 = off): each training batch is
            translated by a random offset of up to ``shift`` px in x and y (borders reflected)
            and mirrored with probability 1/2, so that the map cannot tie a class to a place in
            the frame.
    """

    role = "object model"

    def __init__(
        self,
        net: nn.Module,
        optimizer: OptimizerCallable = _sgd,
        num_classes: int = 9,
        mean_rgb: tuple[float, float, float] = MEAN_RGB,
        input_scale: float = 1.0,
        freeze_early_epochs: int = 0,
        shift: int = 0,
    ) -> None:
        super().__init__(net, optimizer, num_classes)
        self.register_buffer(
            "mean_rgb", torch.tensor(mean_rgb, dtype=torch.float32).view(1, 3, 1, 1)
        )
        self.input_scale = input_scale
        self.freeze_early_epochs = freeze_early_epochs
        self.shift = shift

    def prepare(self, x: Tensor) -> Tensor:
        return (x - self.mean_rgb) * self.input_scale

    def augment(self, x: Tensor) -> Tensor:
        """A random translation (reflected borders) and mirror of a whole batch ``(N, 3, H, W)``.

        One offset per batch: in a standalone probe on the demo set it localised better than one
        offset per frame (hit rate 0.60-0.69 vs 0.46-0.48 over two seeds).
        """
        if self.shift <= 0:
            return x
        s, (h, w) = self.shift, x.shape[-2:]
        i, j = torch.randint(0, 2 * s + 1, (2,)).tolist()
        x = F.pad(x, (s, s, s, s), mode="reflect")[..., i : i + h, j : j + w]
        return x.flip(-1) if torch.rand(()).item() < 0.5 else x

    def on_fit_start(self) -> None:
        if self.freeze_early_epochs > 0 and not getattr(self.net, "has_pretrained_early", True):
            epochs = self.freeze_early_epochs
            rank_zero_info(
                "object model: no pretrained Conv1-5 (model.net.init_args.pretrained_early), so "
                f"nothing is frozen: all layers train from the start (not {epochs} frozen epochs)"
            )
            self.freeze_early_epochs = 0

    def on_train_epoch_start(self) -> None:
        if self.freeze_early_epochs > 0:
            self.net.set_early_trainable(self.current_epoch >= self.freeze_early_epochs)

    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        logits = self.net(self.augment(self.prepare(flatten_frames(batch["x"]))))
        tags = batch["tags"].reshape(-1, batch["tags"].shape[-1])
        loss = F.binary_cross_entropy_with_logits(logits.amax(dim=(-2, -1)), tags)
        self.log(
            "train/loss", loss, batch_size=len(tags), prog_bar=True, on_epoch=True, sync_dist=True
        )
        return loss


class ActionLocaliser(FrameSystem):
    """Action model on flow stacks, trained with one of the targets VT, ST, OT, SOT (SPEC 5).

    Args:
        net: a ``VGGFCN`` with 10 input channels.
        target: VT, ST, OT or SOT.
        v: sound threshold (ST, SOT): ``S^v = [S >= v]``.
        u: object threshold (OT, SOT): ``O^u = [O >= u]``.
        optimizer: optimiser factory (paper: SGD, lr 0.001, momentum 0.9).
        num_classes: G.
        input_scale: factor applied to the flow (pixels) before the network.
    """

    role = "action model"

    def __init__(
        self,
        net: nn.Module,
        target: Target = Target.SOT,
        v: float = 0.5,
        u: float = 0.3,
        optimizer: OptimizerCallable = _sgd,
        num_classes: int = 9,
        input_scale: float = 1.0,
    ) -> None:
        super().__init__(net, optimizer, num_classes)
        self.target = Target(target)
        self.v, self.u = v, u
        self.input_scale = input_scale

    def prepare(self, x: Tensor) -> Tensor:
        return x * self.input_scale

    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        logits = self(flatten_frames(batch["x"]))  # (N, G, h, w)
        g = logits.shape[1]
        tags = batch["tags"].reshape(-1, g)
        sound = batch["sound"].reshape(-1, g) if "sound" in batch else None
        objects = None
        if "objects" in batch:
            objects = batch["objects"].reshape(-1, *batch["objects"].shape[2:])
            if objects.shape[-2:] != logits.shape[-2:]:
                # A teacher run at another frame size: bring its maps onto the action grid.
                objects = F.interpolate(
                    objects, size=logits.shape[-2:], mode="bilinear", align_corners=True
                )
        # A sound teacher that does not cover a class (NaN, e.g. Accordion for the MagnaTagATune
        # tagger) gives no target for it: those (frame, class) terms are left out of the loss.
        covered = None
        if sound is not None and self.target.needs_sound and torch.isnan(sound).any():
            covered = (~torch.isnan(sound)).float()
            sound = torch.nan_to_num(sound, nan=0.0)
        target = action_target(
            self.target, tags=tags, sound=sound, objects=objects, v=self.v, u=self.u
        )
        pooled = self.target.pooled
        outputs = logits.amax(dim=(-2, -1)) if pooled else logits
        if covered is None:
            loss = F.binary_cross_entropy_with_logits(outputs, target)
        else:
            weight = (covered if pooled else covered[:, :, None, None]).expand_as(target)
            terms = F.binary_cross_entropy_with_logits(outputs, target, reduction="none")
            loss = (terms * weight).sum() / weight.sum().clamp_min(1.0)
        self.log(
            "train/loss", loss, batch_size=len(tags), prog_bar=True, on_epoch=True, sync_dist=True
        )
        return loss
