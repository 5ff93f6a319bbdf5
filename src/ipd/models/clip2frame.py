"""The chapter-3 sound FCN "clip2frame" (dissertation §3.1, §3.3; Liu & Yang, ACM MM 2016).

A frame-level music auto-tagger trained from clip-level tags. Per input scale (one log-mel map per
STFT window) a stack of early convolutions along time, each followed by a max-pool of 4; the scales
are concatenated on the channel axis; late 1x1 convolutions give per-segment tag probabilities; a
per-class **Gaussian accumulation layer** smooths them along time; mean (or max) pooling over time
gives the clip output that is trained against clip-level tags.

Time bookkeeping: with ``L`` early layers the total stride is ``4 ** L`` mel frames (2 layers: 16
mel frames = 0.512 s at 16 kHz / hop 512, i.e. one segment per analysis frame of the shared
timebase). Segment ``s`` covers mel frames ``[s * stride, (s + 1) * stride)``.

Training: the clip output is a probability (the sigmoid comes *before* the accumulation), so train
with :func:`clip_bce`, not with a logits loss. The network knows nothing of Lightning; a
LightningModule calls ``model(x).clip`` for the loss and ``model(x).frame`` for frame outputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

GAUSSIAN_SPAN = 256  # input (mel) frames covered by total_stride x sigma at initialisation


class Clip2FrameOutput(NamedTuple):
    """What :class:`Clip2Frame` returns (``T_seg = ceil(T / total_stride)``).

    Attributes:
        clip: ``(batch, classes)`` clip-level probabilities (pooled ``frame``).
        frame: ``(batch, classes, T_seg)`` segment-level activations after the accumulation layer.
        pre_accumulation: ``(batch, classes, T_seg)`` sigmoid outputs before accumulation.
    """

    clip: torch.Tensor
    frame: torch.Tensor
    pre_accumulation: torch.Tensor


def gaussian_taps(length: int) -> torch.Tensor:
    """Tap offsets ``x`` of a filter, starting at ``floor(-(length - 1) / 2)``: ``(length,)``.

    256 taps -> ``-128 ... 127``; 257 taps -> ``-128 ... 128`` (the authors' definition).
    """
    low = math.floor(-(length - 1) / 2)
    return torch.arange(low, low + length, dtype=torch.float32)


class GaussianAccumulation(nn.Module):
    """Per-class Gaussian filter along time (one filter per class, no mixing between classes).

    Tap ``x`` of class ``c`` has weight ``exp(-x^2 / (2 sigma_c^2)) / (sqrt(2 pi) sigma_c)``:
    samples of a unit-area normal density, so the taps sum to ~1 while ``sigma`` is well inside
    the span. ``sigma`` is stored as ``log_sigma`` (learnable when ``adaptive``). Zero padding
    keeps the length: ``(-x_min, x_max)`` = (128, 127) segments for 256 taps.

    Args:
        num_classes: channels ``N``.
        length: number of taps (any length; the paper uses 256).
        init_sigma: initial standard deviation in segments (paper: 256 / total_stride).
        adaptive: learn ``log_sigma`` (the paper's best model) or keep it fixed.
        theano_convolution: apply the filter as Theano's true convolution (kernel flipped), as the
            released model does. For an even ``length`` that centres the filter one segment *before*
            the output position (output lags input by one segment); odd lengths are unaffected.
    """

    def __init__(
        self,
        num_classes: int,
        length: int = 256,
        init_sigma: float = 16.0,
        adaptive: bool = True,
        theano_convolution: bool = False,
    ) -> None:
        super().__init__()
        if length < 1 or init_sigma <= 0:
            raise ValueError(f"need length >= 1 and init_sigma > 0, got {length}, {init_sigma}")
        self.length = length
        self.adaptive = adaptive
        self.theano_convolution = theano_convolution
        log_sigma = torch.full((num_classes,), math.log(init_sigma))
        if adaptive:
            self.log_sigma = nn.Parameter(log_sigma)
        else:
            self.register_buffer("log_sigma", log_sigma)
        self.register_buffer("taps", gaussian_taps(length), persistent=False)
        self.padding = (-int(self.taps[0]), int(self.taps[-1]))  # (128, 127) for 256 taps

    @property
    def sigma(self) -> torch.Tensor:
        """Standard deviations in segments, shape ``(classes,)``."""
        return self.log_sigma.exp()

    def kernel(self) -> torch.Tensor:
        """Filter weights in cross-correlation order, shape ``(classes, length)``."""
        sigma = self.sigma[:, None]
        weights = torch.exp(-(self.taps**2) / (2 * sigma**2)) / (math.sqrt(2 * math.pi) * sigma)
        # Theano's conv2d is a true convolution: tap x_i meets input t + x_(length-1-i).
        return weights.flip(-1) if self.theano_convolution else weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, classes, T) -> (batch, classes, T)``."""
        x = F.pad(x, self.padding)
        return F.conv1d(x, self.kernel()[:, None, :], groups=x.shape[1])


def _early_stack(n_layers: int, n_mels: int, filters: int, taps: int, pool: int) -> nn.Sequential:
    """Early convs of one scale: ``(batch, n_mels, T) -> (batch, filters, ceil(T / pool^n))``.

    The first conv takes the mel bins as input channels (a kernel spanning all bins, convolving
    along time only), as the authors' ``(8, 128)`` kernel over a ``(T, 128)`` map does.
    """
    layers: list[nn.Module] = []
    in_channels = n_mels
    for _ in range(n_layers):
        # 'strictsame' time padding of the authors: (taps // 2) before, (taps - 1) // 2 after.
        layers += [
            nn.ConstantPad1d((taps // 2, (taps - 1) // 2), 0.0),
            nn.Conv1d(in_channels, filters, taps),
            nn.ReLU(),
            # ceil_mode keeps the ragged last window, as Theano's ignore_border=False does.
            nn.MaxPool1d(pool, ceil_mode=True),
        ]
        in_channels = filters
    return nn.Sequential(*layers)


class Clip2Frame(nn.Module):
    """The chapter-3 multi-scale FCN with Gaussian accumulation.

    Args:
        num_classes: output tags ``N`` (188 for the released MagnaTagATune model).
        num_scales: input log-mel maps (STFT windows), 1 to 6 in the paper.
        early_layers: early conv + max-pool layers per scale (1 to 4: total stride 4 ... 256).
        n_mels: mel bands of every input map.
        early_filters: filters per early conv (32).
        early_taps: taps along time per early conv (8).
        pool: max-pool size and stride along time after each early conv (4).
        late_channels: widths of the late 1x1 convs before the output conv (512, 512).
        dropout: dropout before each late conv (0.5).
        accumulation: ``"adaptive"`` (learnable sigma), ``"fixed"`` or ``"none"``.
        gaussian_length: taps of the accumulation filter (256).
        final_pool: ``"mean"`` or ``"max"`` over time for the clip output.
        theano_convolution: see :class:`GaussianAccumulation` (True for the released model).
    """

    def __init__(
        self,
        num_classes: int = 188,
        num_scales: int = 6,
        early_layers: int = 2,
        n_mels: int = 128,
        early_filters: int = 32,
        early_taps: int = 8,
        pool: int = 4,
        late_channels: tuple[int, ...] = (512, 512),
        dropout: float = 0.5,
        accumulation: Literal["adaptive", "fixed", "none"] = "adaptive",
        gaussian_length: int = 256,
        final_pool: Literal["mean", "max"] = "mean",
        theano_convolution: bool = False,
    ) -> None:
        super().__init__()
        if num_scales < 1 or early_layers < 1:
            raise ValueError(f"need >= 1 scale and early layer, got {num_scales}, {early_layers}")
        if accumulation not in ("adaptive", "fixed", "none"):
            raise ValueError(f"accumulation must be adaptive, fixed or none, not {accumulation!r}")
        if final_pool not in ("mean", "max"):
            raise ValueError(f"final_pool must be mean or max, not {final_pool!r}")
        self.num_classes, self.num_scales, self.n_mels = num_classes, num_scales, n_mels
        self.total_stride = pool**early_layers
        self.final_pool = final_pool
        self.early = nn.ModuleList(
            _early_stack(early_layers, n_mels, early_filters, early_taps, pool)
            for _ in range(num_scales)
        )
        late: list[nn.Module] = []
        in_channels = early_filters * num_scales
        for width in (*late_channels, num_classes):
            late += [nn.Dropout(dropout), nn.Conv1d(in_channels, width, 1), nn.ReLU()]
            in_channels = width
        late[-1] = nn.Sigmoid()
        self.late = nn.Sequential(*late)
        self.accumulation = (
            None
            if accumulation == "none"
            else GaussianAccumulation(
                num_classes,
                gaussian_length,
                init_sigma=GAUSSIAN_SPAN / self.total_stride,
                adaptive=accumulation == "adaptive",
                theano_convolution=theano_convolution,
            )
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-uniform weights and zero biases (Lasagne's defaults, as the authors trained)."""
        for module in self.modules():
            if isinstance(module, nn.Conv1d):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def _split(self, scales: Sequence[torch.Tensor] | torch.Tensor) -> Sequence[torch.Tensor]:
        if isinstance(scales, torch.Tensor):
            if scales.dim() != 4:
                raise ValueError(f"expected (batch, scales, n_mels, T), got {tuple(scales.shape)}")
            scales = scales.unbind(1)
        if len(scales) != self.num_scales or any(x.dim() != 3 for x in scales):
            raise ValueError(f"expected {self.num_scales} maps of shape (batch, n_mels, T)")
        if any(x.shape[1] != self.n_mels for x in scales):
            raise ValueError(f"every map needs {self.n_mels} mel bins on axis 1")
        return scales

    def forward_features(self, scales: Sequence[torch.Tensor] | torch.Tensor) -> torch.Tensor:
        """Early convs of every scale, concatenated.

        Args:
            scales: standardized log-mel maps ``(batch, scales, n_mels, T)`` in window order, or a
                sequence of ``num_scales`` maps ``(batch, n_mels, T)``.

        Returns:
            ``(batch, num_scales * early_filters, T_seg)`` with ``T_seg = ceil(T / total_stride)``.
        """
        maps = [stack(x) for stack, x in zip(self.early, self._split(scales), strict=True)]
        length = min(m.shape[2] for m in maps)  # crop the tail if the scales differ in length
        return torch.cat([m[:, :, :length] for m in maps], dim=1)

    def forward(self, scales: Sequence[torch.Tensor] | torch.Tensor) -> Clip2FrameOutput:
        """Standardized log-mels ``(batch, scales, n_mels, T)`` -> :class:`Clip2FrameOutput`."""
        pre = self.late(self.forward_features(scales))  # (B, N, T_seg) probabilities
        frame = pre if self.accumulation is None else self.accumulation(pre)
        clip = frame.mean(dim=2) if self.final_pool == "mean" else frame.amax(dim=2)
        return Clip2FrameOutput(clip=clip, frame=frame, pre_accumulation=pre)

    def predict(
        self, scales: Sequence[torch.Tensor] | torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Segment probabilities ``(batch, N, T_seg)`` and clip probabilities ``(batch, N)``.

        The same call as :meth:`ipd.models.sound_fcn.SoundFCN.predict`, so either model can serve
        as the sound teacher. Leaves train/eval mode and autograd alone.
        """
        out = self(scales)
        return out.frame, out.clip

    @torch.no_grad()
    def frame_activations(
        self,
        scales: torch.Tensor,
        method: Literal["upscale", "patch"] = "upscale",
        accumulated: bool = True,
    ) -> torch.Tensor:
        """Activations at the input (mel) frame rate: ``(B, S, M, T) -> (B, N, T)``.

        ``"upscale"`` repeats each segment output ``total_stride`` times; ``"patch"`` runs the model
        on ``total_stride`` inputs shifted by 0, 1, ... frames (zero-filled at the end) and
        interleaves their outputs, so frame ``s * stride + i`` comes from shift ``i``.
        """
        n = scales.shape[-1]
        pick = (lambda out: out.frame) if accumulated else (lambda out: out.pre_accumulation)
        if method == "upscale":
            return pick(self(scales)).repeat_interleave(self.total_stride, dim=2)[:, :, :n]
        if method != "patch":
            raise ValueError(f"method must be upscale or patch, not {method!r}")
        shifted = [pick(self(F.pad(scales[..., i:], (0, i)))) for i in range(self.total_stride)]
        out = torch.stack(shifted, dim=3)  # (B, N, T_seg, stride)
        return out.flatten(2)[:, :, :n]


def clip_bce(clip: torch.Tensor, target: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Binary cross-entropy of clip probabilities ``(B, N)`` against 0/1 tags ``(B, N)``.

    Probabilities are clipped to ``[eps, 1 - eps]`` as the authors did: after accumulation a
    very narrow Gaussian can push values slightly above 1.
    """
    return F.binary_cross_entropy(clip.clamp(eps, 1 - eps), target.to(clip.dtype))
