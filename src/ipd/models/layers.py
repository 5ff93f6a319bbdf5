"""Small helpers shared by the chapter-4 networks: channel widths, initialisation, geometry.

The geometry of a fully convolutional stack (output size, stride, receptive field, where output
index 0 sits in the input) is derived from the layers themselves, so it cannot drift from the model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from torch import nn


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
