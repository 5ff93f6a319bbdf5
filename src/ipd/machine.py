"""What this machine is, read at run time: the processor, the instruction sets that change which
kernels oneDNN runs (and so how floats round), torch and its threads.

Result files carry it (``study.json``) so that a number is never read without the machine it
came from: the same code and seed train along another path on another processor.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

# Instruction-set flags (as /proc/cpuinfo names them) that select different CPU kernels.
KERNEL_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")


def cpu_model() -> str:
    """The processor's model name (``/proc/cpuinfo``), else what :mod:`platform` says."""
    for line in _cpuinfo().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def cpu_flags() -> list[str]:
    """Which of :data:`KERNEL_FLAGS` the processor has (empty where unknown)."""
    for line in _cpuinfo().splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            return [f for f in KERNEL_FLAGS if f in flags]
    return []


def machine_info() -> dict:
    """``{"cpu", "flags", "cores", "torch", "threads"}`` of this process."""
    import torch

    return {
        "cpu": cpu_model(),
        "flags": cpu_flags(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }


def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""
