"""The README's picture: one test video's side-by-side heat maps from an evaluation report,
made small enough to commit."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from ipd.errors import InputError
from ipd.files import atomic_path


def readme_picture(report: str | Path, out: str | Path, video: str = "", width: int = 960) -> Path:
    """Copy the side-by-side figure of one video of ``report`` to ``out`` as a small PNG.

    Args:
        report: an evaluation report folder (``demo/eval/report``: ``media/<n>_<video>/``).
        out: the PNG to write.
        video: part of the video's folder name (default: the first video of the report).
        width: the picture's width in pixels (height keeps the aspect); 256 colours.

    Raises:
        InputError: no report there, or no video matching ``video``.
    """
    figures = sorted(Path(report).glob("media/*/side_by_side.png"))
    if not figures:
        raise InputError(f"{report}: no side-by-side figures (an `ipd evaluate` report folder?)")
    chosen = [f for f in figures if video in f.parent.name]
    if not chosen:
        names = ", ".join(f.parent.name for f in figures)
        raise InputError(f"{report}: no video matching {video!r} (the report has {names})")
    with Image.open(chosen[0]) as image:
        image = image.convert("RGB")
        height = round(image.height * width / image.width)
        small = image.resize((width, height), Image.Resampling.LANCZOS)
    with atomic_path(out) as tmp:
        palette = small.quantize(256, method=Image.Quantize.FASTOCTREE)  # keeps the colour map
        palette.save(tmp, format="PNG", optimize=True)
    return Path(out)
