"""Pictures: heat-map overlays on frames, MP4/GIF writers, and matplotlib figures.

- :mod:`.overlay`: upsample a map as the evaluation does, colour it, blend it over a frame and
  mark its arg-max peak and the annotated key points (``overlay``, ``overlay_sequence``).
- :mod:`.media`: ``write_mp4`` (H.264), ``write_webm`` (VP9), ``write_gif``; streaming, atomic.
- :mod:`.figures`: models side by side (Fig. 4.6) and timelines against ground truth (Fig. 3.5).
"""
