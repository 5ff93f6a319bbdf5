"""SynthIPA: a synthetic world of instrument-playing music videos with exact ground truth.

``build_dataset(out, config, workers)`` renders the world described by a :class:`WorldConfig`
(``PRESETS["tiny"]`` for tests, ``PRESETS["demo"]`` for the main job) into a dataset folder in the
project's formats (``annotations/FORMATS.md``). See ``docs/synthipa.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ipd.synth.config import DEFAULT_SOUNDFONT, PRESETS, WorldConfig

if TYPE_CHECKING:
    from ipd.synth.builder import Summary, build_dataset

__all__ = ["DEFAULT_SOUNDFONT", "PRESETS", "Summary", "WorldConfig", "build_dataset"]


def __getattr__(name: str):
    # the builder pulls in OpenCV, PyAV and friends: import it only when it is used
    if name in ("build_dataset", "Summary"):
        from ipd.synth import builder

        return getattr(builder, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
