"""The object and action FCN of chapter 4: VGG_CNN_M_2048 as convolutions (Table 4.2, Fig. 4.3).

``features`` (Conv1-5, the "early" convs that ImageNet pretraining would cover):
Conv1 96 x 7x7 stride 2 pad 3 -> ReLU -> LRN (cross-map, size 5, alpha 1e-4, beta 0.75, k 2)
-> MaxPool 3 stride 2 pad 1; Conv2 256 x 5x5 s2 p2 -> ReLU -> pool; Conv3-5 512 x 3x3 p1 -> ReLU,
pool after Conv5. ``head`` ("late" convs): Conv6 2048 x 3x3 (pad 1 in the released code, pad 0 in
Table 4.2) -> ReLU -> dropout; Conv7 1024 x 1x1 -> ReLU -> dropout; Conv8 N x 1x1.
The object model takes 3 channels (RGB minus the mean colour), the action model 10 (flow stack).

Geometry (pixels of the input frame, conv6 pad 1): output stride 32, receptive field 235 px,
output cell ``(i, j)`` centred on input pixel ``(32 i, 32 j)``. Output size for input ``H x W``:
``ceil(H / 32) x ceil(W / 32)`` (e.g. 144 x 256 -> 5 x 8, 256 x 144 -> 8 x 5); with conv6 pad 0
it is ``ceil(H / 32) - 2`` (cells centred on ``32 (i + 1)``). ``output_size`` computes it exactly.

API: ``forward`` returns map **logits** ``(batch, N, h, w)``; ``predict`` returns probability maps
and the clip output (global max). Because sigmoid is monotonic, the clip logit is
``clip_output(logits)``, so clip-level BCE-with-logits works on ``clip_output(forward(x))``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from ipd.errors import InputError
from ipd.models.layers import (
    Geometry,
    LocalResponseNorm,
    geometry,
    init_output,
    init_xavier,
    output_length,
    scaled_channels,
)

PAPER_CHANNELS = (96, 256, 512, 512, 512, 2048, 1024)  # conv1 ... conv7 of VGG_CNN_M_2048


def _pool() -> nn.MaxPool2d:
    return nn.MaxPool2d(3, stride=2, padding=1)


class VGGFCN(nn.Module):
    """Fully convolutional VGG_CNN_M_2048 for object (RGB) or action (optical-flow) maps.

    Module layout (state-dict keys): ``features.conv1`` ... ``features.conv5``,
    ``head.conv6`` ... ``head.conv8``. Initialisation: Xavier-uniform weights and zero biases as
    in the released code (Conv8 bias ``logit(output_prior)``).

    Args:
        in_channels: 3 for the object model (RGB minus mean colour), 10 for the action model.
        num_classes: N, the number of instruments (output maps).
        width: width multiplier applied to every entry of ``channels`` (``round(c * width)``,
            at least 1); 1.0 = paper widths.
        channels: filters of conv1 ... conv7 before the multiplier (7 numbers).
        conv6_padding: padding of the 3x3 Conv6: 1 as in the released code, 0 as in Table 4.2.
        dropout: dropout probability after Conv6 and Conv7.
        output_prior: initial sigmoid output of Conv8: its bias is ``logit(prior)`` (0.5 = zero
            bias).
        pretrained_early: optional state-dict file with ``conv1.weight`` ... ``conv5.bias`` to
            start Conv1-5 from (see ``load_early_weights``).
        batch_norm: not in the paper (default off, same modules and state-dict keys as the
            released model): a ``BatchNorm2d`` after Conv1-7 (keys ``features.bn1`` ...
            ``head.bn7``) so that a from-scratch network trains in the few hundred CPU steps of
            the demo; the paper starts Conv1-5 from ImageNet weights instead.
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 9,
        width: float = 1.0,
        channels: Sequence[int] = PAPER_CHANNELS,
        conv6_padding: int = 1,
        dropout: float = 0.5,
        output_prior: float = 0.5,
        pretrained_early: str | Path | None = None,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        if len(channels) != 7:
            raise ValueError(f"channels must list conv1 ... conv7 (7 numbers), got {channels}")
        c = [scaled_channels(n, width) for n in channels]
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.channels = tuple(c)
        self.batch_norm = batch_norm
        self.early_frozen = False  # set_early_trainable(False): Conv1-5 fixed, in eval mode

        def conv(i: int, cin: int, cout: int, kernel: int, **kw) -> dict[str, nn.Module]:
            layers = {f"conv{i}": nn.Conv2d(cin, cout, kernel, **kw)}
            if batch_norm:
                layers[f"bn{i}"] = nn.BatchNorm2d(cout)
            return {**layers, f"relu{i}": nn.ReLU(inplace=True)}

        self.features = nn.Sequential(
            OrderedDict(
                **conv(1, in_channels, c[0], 7, stride=2, padding=3),
                lrn1=LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0),
                pool1=_pool(),
                **conv(2, c[0], c[1], 5, stride=2, padding=2),
                pool2=_pool(),
                **conv(3, c[1], c[2], 3, padding=1),
                **conv(4, c[2], c[3], 3, padding=1),
                **conv(5, c[3], c[4], 3, padding=1),
                pool5=_pool(),
            )
        )
        self.head = nn.Sequential(
            OrderedDict(
                **conv(6, c[4], c[5], 3, padding=conv6_padding),
                drop6=nn.Dropout(dropout),
                **conv(7, c[5], c[6], 1),
                drop7=nn.Dropout(dropout),
                conv8=nn.Conv2d(c[6], num_classes, 1),
            )
        )
        # Xavier as in the released code: it shrinks the activations layer by layer, which keeps
        # the initial logits moderate for raw inputs of +-128 (flow in pixels, RGB minus mean);
        # Kaiming would carry that scale through to saturated sigmoids.
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                init_xavier(module)
        init_output(self.head.conv8, output_prior)
        self.has_pretrained_early = pretrained_early is not None
        if pretrained_early is not None:
            self.load_early_weights(pretrained_early)

    def forward_features(self, x: Tensor) -> Tensor:
        """Conv1-5 with their pools: ``(batch, C, H, W) -> (batch, c5, ceil(H/32), ceil(W/32))``.

        Runs channels-last (same values up to float rounding): oneDNN's NCHW weight gradient of
        Conv1 (few channels, full resolution) and the NCHW max pool were the slowest parts of a
        CPU training step; channels-last makes a step of the demo's action model ~15 % faster.
        """
        return self.features(x.contiguous(memory_format=torch.channels_last))

    def forward_head(self, features: Tensor) -> Tensor:
        """Conv6-8: ``(batch, c5, h5, w5) -> (batch, N, h, w)`` logits."""
        return self.head(features)

    def forward(self, x: Tensor) -> Tensor:
        """Map logits ``(batch, N, h, w)`` for input ``(batch, in_channels, H, W)``.

        ``(h, w) = output_size(H, W)``; pixels are those of the (256-px) input frame.
        """
        return self.forward_head(self.forward_features(x))

    def predict(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Probability maps (``O`` or ``A``) ``(batch, N, h, w)`` and clip output ``(batch, N)``.

        Does not change train/eval mode or autograd: use ``model.eval()`` and ``torch.no_grad()``
        for inference.
        """
        maps = torch.sigmoid(self(x))
        return maps, self.clip_output(maps)

    @staticmethod
    def clip_output(maps: Tensor) -> Tensor:
        """Global max over space, ``(batch, N, h, w) -> (batch, N)`` (logits or probabilities)."""
        return maps.amax(dim=(-2, -1))

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """Output map ``(h, w)`` for an input of ``height x width`` pixels (0 if too small).

        Default (conv6 pad 1): ``(ceil(H / 32), ceil(W / 32))``; conv6 pad 0: 2 less on each axis.
        """
        layers = [*self.features, *self.head]
        return output_length(height, layers, dim=0), output_length(width, layers, dim=1)

    @property
    def geometry(self) -> Geometry:
        """Stride, receptive field and centre of output cell 0, in input pixels (same on both axes).

        Conv6 pad 1: stride 32, receptive field 235, offset 0; pad 0: offset 32.
        """
        return geometry([*self.features, *self.head], dim=0)

    def early_parameters(self) -> Iterator[nn.Parameter]:
        """Parameters of Conv1-5 (frozen in the first step of the pretrained object schedule)."""
        return self.features.parameters()

    def late_parameters(self) -> Iterator[nn.Parameter]:
        """Parameters of Conv6-8."""
        return self.head.parameters()

    def set_early_trainable(self, trainable: bool) -> None:
        """Freeze (``False``) or unfreeze (``True``) Conv1-5.

        Frozen means unchanged: no gradient (``requires_grad``) and, with ``batch_norm``, no
        moving statistics either. Conv1-5 stay in eval mode while frozen, also when the trainer
        switches the model to train mode (:meth:`train`): in train mode a BatchNorm layer would
        normalise with the batch's statistics and update its running ones, so "frozen"
        pretrained layers would drift over the run.
        """
        self.early_frozen = not trainable
        for parameter in self.early_parameters():
            parameter.requires_grad_(trainable)
        self.train(self.training)

    def train(self, mode: bool = True) -> VGGFCN:
        """``nn.Module.train``, except that frozen Conv1-5 stay in eval mode."""
        super().train(mode)
        if self.early_frozen:
            self.features.eval()
        return self

    def load_early_weights(self, source: str | Path | Mapping[str, Tensor]) -> list[str]:
        """Copy Conv1-5 weights from a state dict (a file or a mapping).

        The state dict must hold ``conv{1..5}.weight`` and ``conv{1..5}.bias`` (and ``bn1`` ...
        ``bn5`` with ``batch_norm``) with this model's shapes, with or without the prefix
        ``features.`` (a model's state dict) or ``net.features.`` (a Lightning checkpoint of
        ``ipd train pretrain``); other keys (e.g. Conv6-8 of a full model) are ignored and
        returned.

        Raises:
            InputError: unreadable file, a missing key or a wrong shape (names the file and key).
        """
        from ipd.models.weights_io import read_state_dict

        name = str(source) if isinstance(source, str | Path) else "<state dict>"
        state = read_state_dict(source) if isinstance(source, str | Path) else dict(source)
        ours = self.features.state_dict()
        new, used = {}, set()
        for key, target in ours.items():
            found = next(
                (k for k in (key, f"features.{key}", f"net.features.{key}") if k in state), None
            )
            if found is None:
                raise InputError(f"{name}: missing key {key!r} (pretrained Conv1-5 weights)")
            value = state[found]
            if not isinstance(value, Tensor) or tuple(value.shape) != tuple(target.shape):
                got = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
                raise InputError(
                    f"{name}: {found!r} has shape {got}, expected {tuple(target.shape)}"
                )
            new[key] = value.to(target.dtype)
            used.add(found)
        self.features.load_state_dict(new)
        return sorted(k for k in state if k not in used)
