"""Float precision of the networks: fp32 (the default) or bfloat16 where the hardware has it.

``--precision`` takes Lightning's names: ``32`` (also ``32-true``) and ``bf16`` (also
``bf16-mixed``). bf16 runs the convolutions in bfloat16 under autocast (weights stay fp32, outputs
come back fp32). It is allowed only where it is native: a GPU that supports it, or a processor with
AVX512-BF16 or AMX (read from ``/proc/cpuinfo`` at run time, never assumed); elsewhere oneDNN would
emulate it, slower than fp32, so the request is refused with a clear line.

Example:
    >>> precision = check_precision("bf16")      # InputError where unsupported
    >>> with autocast(precision):
    ...     maps = system.maps(x)
"""

from __future__ import annotations

import contextlib

import torch

from ipd.errors import InputError
from ipd.machine import cpu_flags, cpu_model

PRECISIONS = ("32", "bf16")
ALIASES = {"32": "32", "32-true": "32", "fp32": "32", "bf16": "bf16", "bf16-mixed": "bf16"}
BF16_FLAGS = ("amx_bf16", "avx512_bf16")  # native bfloat16 dot products on x86


def bf16_problem(device: str = "cpu") -> str | None:
    """Why bf16 would not be native on ``device`` (``cpu`` or ``cuda``), or None when it is."""
    if device == "cuda":
        if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
            return None
        return "this GPU has no bfloat16 support"
    if any(flag in cpu_flags() for flag in BF16_FLAGS):
        return None
    return f"this processor ({cpu_model()}) has neither AVX512-BF16 nor AMX"


def check_precision(precision: str | int, device: str = "cpu") -> str:
    """``"32"`` or ``"bf16"`` for a requested precision, checked against the hardware.

    Raises:
        InputError: an unknown name, or bf16 where it is not native.
    """
    name = ALIASES.get(str(precision).lower())
    if name is None:
        raise InputError(f"--precision {precision}: choose 32 or bf16")
    if name == "bf16":
        problem = bf16_problem(device)
        if problem is not None:
            raise InputError(f"--precision bf16: {problem}; use --precision 32")
    return name


def kernel_path(precision: str, device: str = "cpu") -> str:
    """What runs the convolutions, for reports: e.g. ``bf16 (amx_bf16)``, ``fp32 (avx512f)``."""
    if device == "cuda":
        return f"{'bf16' if precision == 'bf16' else 'fp32'} (cuda)"
    flags = cpu_flags()
    if precision == "bf16":
        used = next((f for f in BF16_FLAGS if f in flags), "emulated")
        return f"bf16 ({used})"
    used = next((f for f in ("avx512f", "avx2") if f in flags), "baseline")
    return f"fp32 ({used})"


def autocast(precision: str, device: str = "cpu") -> contextlib.AbstractContextManager:
    """The context the networks run in: bfloat16 autocast for ``bf16``, nothing for ``32``."""
    if precision == "bf16":
        return torch.autocast(device, dtype=torch.bfloat16)
    return contextlib.nullcontext()
