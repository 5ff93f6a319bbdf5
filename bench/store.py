"""The feature store, measured: bytes per video-minute, reading one 5-s sub-clip cold and warm,
and loading an action-training epoch.

It uses only the public reading API (:func:`ipd.features.reader.open_features` and the action
stage's :class:`ipd.data.datamodules.FrameData`), so the same script measures any store format: run
it on a commit with the old store and on one with the new, on the same extracted world (the new
one converted by ``ipd convert-cache``), then write the table of the two::

    python -m bench.store measure WORLD/data WORLD/cache --out after.json
    python -m bench.store table --before b*.json --after a*.json --into docs/scale.md

* **bytes per video-minute**: the files of each stream's folder (these parameters only) over the
  minutes of video they hold.
* **sub-clip read**: opening a video's features and reading the 10 analysis frames of one sub-clip
  (rgb, flow, and the log-mel of one window), the median over videos. *Cold*: the video's files
  dropped from the page cache first (``posix_fadvise(DONTNEED)``, no root needed); *warm*: the same
  read again, through a new open (no decoded copy kept between the two).
* **epoch loading**: two epochs of the demo action stage's training DataLoader (the ``data`` of
  ``configs/demo/action.yaml``: flow, 8 random 2-frame sub-clips per video, batches of 10,
  ``num_workers=0``) with no model: seconds per epoch and the
  process's peak resident memory (``ru_maxrss``) after them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from datetime import date
from importlib.resources import files
from pathlib import Path

import yaml

from bench.table import update_block
from ipd.data.datamodules import FrameData
from ipd.data.index import read_index
from ipd.features.params import DEFAULT_WINDOWS, ExtractParams
from ipd.features.reader import open_features
from ipd.machine import cpu_model

CLIP = 10  # analysis frames of a sub-clip: 5.12 s
START = 20  # first analysis frame of the sub-clip read (10.24 s)
VIDEOS = 20  # videos timed for the sub-clip reads


def stream_bytes(cache: Path, params: ExtractParams, stream: str) -> int:
    """Bytes of every file in the stream's folder for ``params``."""
    folder = cache / params.stream_key(stream)
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def drop_from_page_cache(folder: Path, video_id: str) -> None:
    """Ask the kernel to forget the cached pages of the video's files in ``folder``."""
    for path in folder.glob(f"{video_id}*"):
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for file in files:
            fd = os.open(file, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def read_subclip(cache: Path, video_id: str, params: ExtractParams) -> float:
    """Seconds to open the video's features and read one sub-clip of every stream."""
    start = time.perf_counter()
    with open_features(cache, video_id, params=params) as feats:
        first = max(0, min(START, feats.num_frames - CLIP))  # short videos: their last sub-clip
        feats.rgb(first, first + CLIP)
        feats.flow(first, first + CLIP)
        feats.logmel(params.windows[0], first, first + CLIP)
    return time.perf_counter() - start


def subclip_reads(cache: Path, video_ids: list[str], params: ExtractParams) -> dict:
    cold, warm = [], []
    for video_id in video_ids:
        for stream in ("rgb", "flow", "audio"):
            drop_from_page_cache(cache / params.stream_key(stream), video_id)
        cold.append(read_subclip(cache, video_id, params))
        warm.append(read_subclip(cache, video_id, params))
    return {
        "videos": len(video_ids),
        "cold_ms": 1000 * statistics.median(cold),
        "warm_ms": 1000 * statistics.median(warm),
    }


def epoch_loading(data: Path, cache: Path, size: int, epochs: int = 2) -> dict:
    """Seconds per epoch of the demo action stage's training DataLoader, without a model."""
    config = yaml.safe_load((files("ipd") / "configs/demo/action.yaml").read_text())["data"]
    config = {k: v for k, v in config.items() if k not in ("dataset", "cache", "size")}
    module = FrameData(str(data), str(cache), size=size, **config)
    module.setup("fit")
    loader = module.train_dataloader()
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        batches = sum(1 for _ in loader)
        seconds.append(time.perf_counter() - start)
    return {
        "batches": batches,
        "epoch_s": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure(data: Path, cache: Path, size: int) -> dict:
    params = ExtractParams(size=size, windows=DEFAULT_WINDOWS)
    entries = [e for split in ("train", "val", "test") for e in read_index(data, split)]
    minutes = 0.0
    for entry in entries:
        with open_features(cache, entry.video_id, ("audio",), params) as feats:
            minutes += feats.meta["audio"]["duration_s"] / 60
    per_minute = {s: stream_bytes(cache, params, s) / minutes for s in ("audio", "rgb", "flow")}
    ids = [e.video_id for e in read_index(data, "test")][:VIDEOS]
    return {
        "date": date.today().isoformat(),
        "processor": cpu_model(),
        "videos": len(entries),
        "video_minutes": minutes,
        "bytes_per_video_minute": {**per_minute, "total": sum(per_minute.values())},
        "subclip_read": subclip_reads(cache, ids, params),
        "epoch_loading": epoch_loading(data, cache, size),
    }


def _mb(value: float) -> str:
    return f"{value / 1e6:.1f} MB"


def _median_run(runs: list[dict]) -> dict:
    """One measurement from several runs of it: the median of every number (bytes are the same
    in each run; timings vary with the machine's load)."""
    first = runs[0]
    loading = [r["epoch_loading"] for r in runs]
    return {
        **first,
        "runs": len(runs),
        "subclip_read": {
            **first["subclip_read"],
            **{
                k: statistics.median(r["subclip_read"][k] for r in runs)
                for k in ("cold_ms", "warm_ms")
            },
        },  # fmt: skip
        "epoch_loading": {
            **first["epoch_loading"],
            "epoch_s": [statistics.median(e["epoch_s"][i] for e in loading) for i in (0, 1)],
            "peak_rss_mb": statistics.median(e["peak_rss_mb"] for e in loading),
        },
    }


def table(before_runs: list[dict], after_runs: list[dict]) -> str:
    """The Markdown block comparing two stores, each measured one or more times (old store first;
    timings are the medians over the runs)."""
    before, after = _median_run(before_runs), _median_run(after_runs)
    rows = []
    for stream in ("audio", "rgb", "flow", "total"):
        old, new = before["bytes_per_video_minute"][stream], after["bytes_per_video_minute"][stream]
        rows.append((f"bytes per video-minute: {stream}", _mb(old), _mb(new), new / old))
    for key, label in (("cold_ms", "cold"), ("warm_ms", "warm")):
        old, new = before["subclip_read"][key], after["subclip_read"][key]
        rows.append((f"one 5-s sub-clip, all streams, {label}", f"{old:.0f} ms", f"{new:.0f} ms",
                     new / old))  # fmt: skip
    for epoch in (0, 1):
        old, new = (
            before["epoch_loading"]["epoch_s"][epoch],
            after["epoch_loading"]["epoch_s"][epoch],
        )
        rows.append((f"action epoch {epoch + 1}: loading only", f"{old:.1f} s", f"{new:.1f} s",
                     new / old))  # fmt: skip
    old, new = before["epoch_loading"]["peak_rss_mb"], after["epoch_loading"]["peak_rss_mb"]
    rows.append(("peak resident memory of the loading run", f"{old:,.0f} MB", f"{new:,.0f} MB",
                 new / old))  # fmt: skip
    lines = [
        f"Measured by `python -m bench.store` on {before['date']} ({before['processor']}, before) "
        f"and {after['date']} ({after['processor']}, after), {before['runs']} and "
        f"{after['runs']} runs (one process each, alternating; timings are medians over them), "
        "on the same world "
        f"({after['videos']} videos, {after['video_minutes']:.1f} video-minutes); sub-clip reads: "
        f"median over {after['subclip_read']['videos']} videos; an epoch: "
        f"{after['epoch_loading']['batches']} batches of the demo action stage.",
        "",
        "| | zip per video (before) | zarr store (after) | after / before |",
        "| --- | --- | --- | --- |",
        *(f"| {name} | {old} | {new} | {ratio:.2f} |" for name, old, new, ratio in rows),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("measure", help="measure a store; prints JSON")
    run.add_argument("data", type=Path, help="the world's dataset folder (index.csv)")
    run.add_argument("cache", type=Path, help="its feature cache")
    run.add_argument("--size", type=int, default=256, help="frame size of the extraction")
    run.add_argument("--out", type=Path, help="write the result here as JSON")
    both = sub.add_parser("table", help="the before/after table of two measurements")
    both.add_argument("--before", type=Path, nargs="+", required=True, help="runs of the old store")
    both.add_argument("--after", type=Path, nargs="+", required=True, help="runs of the new store")
    both.add_argument("--into", type=Path, help="rewrite the store block of this file")
    args = parser.parse_args(argv)
    if args.command == "table":
        block = table(
            *([json.loads(p.read_text()) for p in paths] for paths in (args.before, args.after))
        )
        if args.into is None:
            print(block, end="")
        else:
            text = update_block(args.into.read_text(), block, str(args.into), "store")
            args.into.write_text(text)
            print(f"wrote the store block of {args.into}")
        return 0
    result = measure(args.data, args.cache, args.size)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
