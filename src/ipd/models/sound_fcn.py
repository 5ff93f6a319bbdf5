"""The chapter-4 sound model: a multi-scale 1-D FCN over log-mel maps (Table 4.1, SPEC section 4).

Per scale (one STFT window each, default 512, 2048, 8192 samples, in that order):
Conv1 256 x 5 taps (pad 2) -> BN -> ReLU -> max-pool 4; Conv2 the same. The scales are
concatenated on the channel axis, then Conv3 512 (1x1) -> BN -> ReLU -> dropout, Conv4 the same,
Conv5 N outputs. The first conv sees all 128 mel bins as channels (convolution along time only).

Pooling is the authors' ``MaxPool2d((4, 1), padding=(2, 0))``: kernel 4, stride 4, padding 2, so
an input of ``T`` mel frames gives ``floor(T / 4) + 1`` after each pool and
``T' = floor((floor(T / 4) + 1) / 4) + 1`` at the output (313 -> 79 -> 20, 160 -> 41 -> 11).
Output ``k`` sees 36 mel frames centred on mel frame ``16 k - 2.5`` (0.08 s before
``k * 0.512`` s): output index ``k`` is analysis frame ``k`` of the shared timebase.

API: ``forward`` returns frame **logits** ``(batch, N, T')``; ``predict`` returns frame
probabilities and the clip output (mean of the frame probabilities over time). The clip output is a
mean of sigmoids, not a sigmoid of anything, so the clip-level training loss is plain BCE on
``predict(...)[1]`` (as the authors trained it); the logits serve frame-level losses.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ipd.models.layers import Geometry, geometry, init_conv_relu, init_output, scaled_channels
from ipd.models.layers import output_length as _output_length

POOL = 4  # max-pool size and stride along time; two pools give the timebase's stride of 16


def _early_stack(n_mels: int, channels: int, kernel_size: int) -> nn.Sequential:
    """Conv1/Conv2 of one scale: ``(batch, n_mels, T) -> (batch, channels, T')``."""
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    in_channels = n_mels
    for i in (1, 2):
        layers[f"conv{i}"] = nn.Conv1d(in_channels, channels, kernel_size, padding=kernel_size // 2)
        layers[f"bn{i}"] = nn.BatchNorm1d(channels)
        layers[f"relu{i}"] = nn.ReLU(inplace=True)
        layers[f"pool{i}"] = nn.MaxPool1d(POOL, stride=POOL, padding=POOL // 2)
        in_channels = channels
    return nn.Sequential(layers)


class SoundFCN(nn.Module):
    """Multi-scale sound FCN of chapter 4 (frame-level instrument-sound detector).

    Module layout (state-dict keys): ``early.{s}.conv1/bn1/conv2/bn2`` for scale ``s``,
    ``head.conv3/bn3/conv4/bn4/conv5``. Initialisation: Kaiming-normal Conv1-4 (each is followed
    by BN and ReLU), Xavier-uniform Conv5 with bias ``logit(output_prior)``, zero biases otherwise.

    Args:
        num_classes: N, the number of instruments (output channels).
        num_scales: number of log-mel input maps, each with its own early convs.
        n_mels: mel bins of every input map (input channels of Conv1).
        early_channels: filters of Conv1/Conv2 per scale before the width multiplier (paper: 256).
        late_channels: filters of Conv3/Conv4 before the width multiplier (paper: 512).
        width: width multiplier applied to ``early_channels`` and ``late_channels``
            (``round(c * width)``, at least 1); 1.0 = paper widths.
        kernel_size: taps along time of Conv1/Conv2 (odd; padding keeps the length).
        dropout: dropout probability after Conv3 and Conv4.
        output_prior: initial sigmoid output of Conv5: its bias is ``logit(prior)`` (0.5 = zero
            bias).
    """

    def __init__(
        self,
        num_classes: int = 9,
        num_scales: int = 3,
        n_mels: int = 128,
        early_channels: int = 256,
        late_channels: int = 512,
        width: float = 1.0,
        kernel_size: int = 5,
        dropout: float = 0.5,
        output_prior: float = 0.5,
    ) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd to keep the timebase, got {kernel_size}")
        self.num_classes = num_classes
        self.num_scales = num_scales
        self.n_mels = n_mels
        self.early_channels = scaled_channels(early_channels, width)
        self.late_channels = scaled_channels(late_channels, width)
        self.early = nn.ModuleList(
            _early_stack(n_mels, self.early_channels, kernel_size) for _ in range(num_scales)
        )
        late = self.late_channels
        self.head = nn.Sequential(
            OrderedDict(
                conv3=nn.Conv1d(self.early_channels * num_scales, late, 1),
                bn3=nn.BatchNorm1d(late),
                relu3=nn.ReLU(inplace=True),
                drop3=nn.Dropout(dropout),
                conv4=nn.Conv1d(late, late, 1),
                bn4=nn.BatchNorm1d(late),
                relu4=nn.ReLU(inplace=True),
                drop4=nn.Dropout(dropout),
                conv5=nn.Conv1d(late, num_classes, 1),
            )
        )
        for module in self.modules():
            if isinstance(module, nn.Conv1d):
                init_conv_relu(module)
        init_output(self.head.conv5, output_prior)

    def _split(self, scales: Sequence[Tensor] | Tensor) -> Sequence[Tensor]:
        if isinstance(scales, Tensor):
            if scales.dim() != 4:
                raise ValueError(
                    f"expected (batch, scales, n_mels, T) or a list of (batch, n_mels, T), "
                    f"got a tensor of shape {tuple(scales.shape)}"
                )
            scales = scales.unbind(1)
        if len(scales) != self.num_scales:
            raise ValueError(f"expected {self.num_scales} input scales, got {len(scales)}")
        shapes = {tuple(x.shape) for x in scales}
        if len(shapes) != 1 or len(next(iter(shapes))) != 3:
            raise ValueError(f"every scale must be (batch, n_mels, T) of one shape, got {shapes}")
        return scales

    def forward_features(self, scales: Sequence[Tensor] | Tensor) -> Tensor:
        """Early convs of every scale, concatenated.

        Args:
            scales: ``num_scales`` standardized log-mel maps ``(batch, n_mels, T)`` in window order
                (or one tensor ``(batch, num_scales, n_mels, T)``).

        Returns:
            ``(batch, num_scales * early_channels, T')``.
        """
        scales = self._split(scales)
        return torch.cat([stack(x) for stack, x in zip(self.early, scales, strict=True)], dim=1)

    def forward(self, scales: Sequence[Tensor] | Tensor) -> Tensor:
        """Frame logits ``(batch, N, T')`` (pre-sigmoid); input as in ``forward_features``."""
        return self.head(self.forward_features(scales))

    def predict(self, scales: Sequence[Tensor] | Tensor) -> tuple[Tensor, Tensor]:
        """Frame probabilities ``S`` ``(batch, N, T')`` and clip probabilities ``(batch, N)``.

        Does not change train/eval mode or autograd: use ``model.eval()`` and ``torch.no_grad()``
        for inference.
        """
        frames = torch.sigmoid(self(scales))
        return frames, self.clip_output(frames)

    @staticmethod
    def clip_output(frame_probs: Tensor) -> Tensor:
        """Clip output: mean over time, ``(batch, N, T') -> (batch, N)``."""
        return frame_probs.mean(dim=-1)

    def output_length(self, num_mel_frames: int) -> int:
        """Output frames ``T'`` for ``T`` input mel frames: ``floor((floor(T/4) + 1) / 4) + 1``."""
        return _output_length(num_mel_frames, self.early[0])

    @property
    def geometry(self) -> Geometry:
        """Stride 16, receptive field 36 and centre offset -2.5, all in mel frames."""
        return geometry(self.early[0])
