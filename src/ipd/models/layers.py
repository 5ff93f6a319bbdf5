"""Small helpers shared by the chapter-4 networks: channel widths, initialisation, geometry.

The geometry of a fully convolutional stack (output size, stride, receptive field, where output
index 0 sits in the input) is derived from the layers themselves, so it cannot drift from the model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def scaled_channels(channels: int, width: float) -> int:
    """``channels * width`` rounded, at least 1 (the width multiplier of every model)."""
    if width <= 0:
        raise ValueError(f"width multiplier must be positive, got {width}")
    return max(1, round(channels * width))


def init_conv_relu(conv: nn.Module) -> None:
    """Kaiming-normal weights (fan-in, ReLU gain) and zero bias for a conv followed by ReLU."""
    nn.init.kaiming_normal_(conv.weight, mode="fan_in", nonlinearity="relu")
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


def init_xavier(conv: nn.Module) -> None:
    """Xavier-uniform weights and zero bias (the released code's initialisation of the VGG FCN)."""
    nn.init.xavier_uniform_(conv.weight)
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


def init_output(conv: nn.Module, prior: float) -> None:
    """Xavier-uniform weights and bias ``logit(prior)`` for an output (pre-sigmoid) conv.

    With ``prior`` 0.5 (zero bias) the initial outputs spread around 0.5; a smaller prior starts
    every output near ``prior`` (useful when most targets are 0).
    """
    if not 0.0 < prior < 1.0:
        raise ValueError(f"output prior must be in (0, 1), got {prior}")
    nn.init.xavier_uniform_(conv.weight)
    nn.init.constant_(conv.bias, math.log(prior / (1.0 - prior)))


def _window_sum(x: Tensor, before: int, after: int) -> Tensor:
    """Sum over channels ``[c - before, c + after]`` (zeros beyond the edges): ``(N, C, H, W)``."""
    c = x.shape[1]
    padded = F.pad(x, (0, 0, 0, 0, before, after))
    total = padded[:, :c]
    for i in range(1, before + after + 1):
        total = total + padded[:, i : i + c]
    return total


class _LocalResponseNorm(torch.autograd.Function):
    """``y = x / (k + alpha / size * sum of x^2 over the channel window) ** beta``.

    The forward adds the window's squares as ``torch.nn.LocalResponseNorm``'s average pool does
    (the same values, bit for bit for the network's size 5); the backward is the analytic gradient
    ``g / q - 2 alpha beta / size * x * sum'(g x / (q d))`` (``d`` the base, ``q = d ** beta``,
    ``sum'`` the transposed window) instead of autograd through a 3-D average pool.
    """

    @staticmethod
    def forward(ctx, x: Tensor, size: int, alpha: float, beta: float, k: float) -> Tensor:
        d = _window_sum(x * x, size // 2, (size - 1) // 2).div_(size).mul_(alpha).add_(k)
        q = d.pow(beta)
        ctx.save_for_backward(x, d, q)
        ctx.constants = size, alpha, beta
        return x / q

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None, None, None]:
        x, d, q = ctx.saved_tensors
        size, alpha, beta = ctx.constants
        spread = _window_sum(grad * x / (q * d), (size - 1) // 2, size // 2)
        return grad / q - (2 * alpha * beta / size) * x * spread, None, None, None, None


class LocalResponseNorm(nn.LocalResponseNorm):
    """Cross-channel LRN with ``torch.nn.LocalResponseNorm``'s arguments and outputs, 3x faster.

    PyTorch's module goes through a 3-D average pool whose CPU forward and backward took a third
    of an action-model training step (45 of 147 ms; 15 ms here). Input ``(N, C, H, W)``.
    """

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4:
            return super().forward(x)
        return _LocalResponseNorm.apply(x, self.size, self.alpha, self.beta, self.k)


def _along(value: int | tuple[int, ...], dim: int) -> int:
    return value[dim] if isinstance(value, tuple) else value


def _windows(layers: Iterable[nn.Module], dim: int) -> list[tuple[int, int, int]]:
    """``(kernel, stride, padding)`` along ``dim`` of every conv/pool, in order."""
    out = []
    for layer in layers:
        if isinstance(layer, nn.modules.conv._ConvNd | nn.modules.pooling._MaxPoolNd):
            if _along(layer.dilation, dim) != 1:
                raise ValueError(f"dilated layers are not supported: {layer}")
            if getattr(layer, "ceil_mode", False):
                raise ValueError(f"ceil_mode pools are not supported: {layer}")
            kernel, stride = _along(layer.kernel_size, dim), _along(layer.stride, dim)
            out.append((kernel, stride, _along(layer.padding, dim)))
    return out


def output_length(n: int, layers: Iterable[nn.Module], dim: int = 0) -> int:
    """Output length along spatial axis ``dim`` for input length ``n``.

    Applies PyTorch's ``floor((n + 2 * padding - kernel) / stride) + 1`` layer by layer.
    Returns 0 when the input is too short for some layer.
    """
    for kernel, stride, padding in _windows(layers, dim):
        n = (n + 2 * padding - kernel) // stride + 1
        if n <= 0:
            return 0
    return n


@dataclass(frozen=True)
class Geometry:
    """Where the outputs of a conv/pool stack sit in its input (one spatial axis).

    Attributes:
        stride: input samples between neighbouring outputs.
        receptive_field: input samples one output sees (padding included).
        offset: input index output 0 is centred on; output ``i`` is centred on
            ``offset + stride * i`` (may be fractional or negative).
    """

    stride: int
    receptive_field: int
    offset: float

    def centre(self, index: float) -> float:
        """Input coordinate that output ``index`` is centred on."""
        return self.offset + self.stride * index


def geometry(layers: Iterable[nn.Module], dim: int = 0) -> Geometry:
    """Stride, receptive field and centre offset of a conv/pool stack along ``dim``."""
    jump, field, offset = 1, 1, 0.0
    for kernel, stride, padding in _windows(layers, dim):
        field += (kernel - 1) * jump
        offset += jump * ((kernel - 1) / 2 - padding)
        jump *= stride
    return Geometry(stride=jump, receptive_field=field, offset=offset)
