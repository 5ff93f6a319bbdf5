"""Frame-level music auto-tagging with the chapter-3 model (``ipd tag``).

- :mod:`~ipd.tagging.tagger`: :class:`Clip2FrameTagger` (network + tags + standardization) and
  :class:`TagActivations` (tags over time with timestamps).
- :mod:`~ipd.tagging.writers`: CSV / JSON output.
- :mod:`~ipd.tagging.plots`: top tags over time (Fig. 3.7), learned sigmas (Fig. 3.4).
- :mod:`~ipd.tagging.teacher`: instrument activations from MagnaTagATune tags (sound teacher).
"""

from ipd.tagging.tagger import Clip2FrameTagger, TagActivations
from ipd.tagging.teacher import Clip2FrameTeacher, InstrumentActivations, InstrumentTagMap

__all__ = [
    "Clip2FrameTeacher",
    "InstrumentActivations",
    "InstrumentTagMap",
    "Clip2FrameTagger",
    "TagActivations",
]
