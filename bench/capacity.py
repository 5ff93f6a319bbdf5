"""The capacity note: the paper-scale dataset's cost, extrapolated from one benchmark run.

    python -m bench.capacity bench-results/bench.json                          # print
    python -m bench.capacity bench-results/bench.json --into docs/scale.md     # the block

Every per-video-minute cost comes from ``bench.json`` (``make bench``) and the feature store
that run wrote for its 60-s video (``work/cache_60s`` beside the JSON); the dataset's size and
the training schedule are the paper's (SPEC 5, dissertation section 4.2); GPU throughput cannot
be measured here and is an assumption (``--gpu-tflops``), said as such in the output. The block
sits between ``<!-- capacity:begin -->`` and ``<!-- capacity:end -->``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.run import CLIP_SECONDS, EXTRACT_CLIPS
from bench.table import update_block

FPS = 7.8125  # analysis frames per second of the object model and the teachers (SPEC 3)
ACTION_FPS = 2.0  # frames per second of the action model's 5-s sub-clips of 10 frames
TRAIN_BACKWARD = 3.0  # a training step's FLOPs per frame: forward + backward ~ 3x forward


@dataclass(frozen=True)
class Scale:
    """The dataset and schedule to extrapolate to (defaults: the paper's)."""

    train_videos: int = 16_804  # YouTube-8M training videos (dissertation 4.2)
    val_videos: int = 2_100  # extracted and taught too, validated on, not trained on
    minutes: float = 1.0  # the first minute of each video
    action_epochs: int = 100  # "100+ epochs" (issue #19); one epoch = every analysis frame once
    object_epochs: int = 50  # 20 with Conv1-5 frozen, then 30 (SPEC 5)
    gpu_tflops: float = 100.0  # assumed sustained training throughput of one GPU (not measured)
    workers_per_day: float = 24.0  # hours in the day a job should fit in


def store_mb_per_minute(bench_json: Path) -> float | None:
    """MB per video-minute of every stream the run stored for its 60-s video (its zarr stores;
    a run made with the earlier zip store counts after ``ipd convert-cache``), or None."""
    cache = bench_json.parent / "work" / "cache_60s"
    files = [p for p in cache.glob("*/*.zarr/**/*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6 if files else None


def costs(result: Mapping, store_mb: float | None) -> dict[str, float]:
    """Per video-minute costs on the benchmark's machine: core-seconds of extraction, teacher
    inference (object model at fp32; the sound model's share is under 1 %), detection; and the
    training FLOPs per video-minute and epoch of the action and object models at paper width."""
    extract = result["extract"]
    extract_minutes = EXTRACT_CLIPS * CLIP_SECONDS / 60
    threads = result["cpu"]["threads"]
    nets = result["networks"]["fp32"]
    detect = result["detect"]
    return {
        "extract_core_s": extract["seconds_1_worker"] * extract["cores_used_1_worker"]
        / extract_minutes,
        "teach_core_s": nets["object"]["ms_per_frame"] / 1e3 * FPS * 60 * threads,
        "detect_core_s": detect["cpu_s"] * 60 / result["video"]["seconds"],
        "action_tflop_epoch": nets["action"]["gflop_per_frame"] * TRAIN_BACKWARD * ACTION_FPS
        * 60 / 1e3,
        "object_tflop_epoch": nets["object"]["gflop_per_frame"] * TRAIN_BACKWARD * FPS * 60 / 1e3,
        "action_gflops_cpu": nets["action"]["gflops"],
        "store_mb": store_mb if store_mb is not None else float("nan"),
    }  # fmt: skip


def markdown(result: Mapping, store_mb: float | None, scale: Scale = Scale()) -> str:
    """The note: a table of per-video-minute costs and their paper-scale totals."""
    c = costs(result, store_mb)
    minutes = (scale.train_videos + scale.val_videos) * scale.minutes
    train_minutes = scale.train_videos * scale.minutes
    core_hours = {k: c[k] * minutes / 3600 for k in ("extract_core_s", "teach_core_s")}
    tflop_per_minute = (
        c["action_tflop_epoch"] * scale.action_epochs
        + c["object_tflop_epoch"] * scale.object_epochs
    )
    train_pflop = train_minutes * tflop_per_minute / 1e3
    gpu_hours = train_pflop * 1e3 / scale.gpu_tflops / 3600
    cpu_hours = train_pflop * 1e6 / c["action_gflops_cpu"] / 3600
    cpu = result["cpu"]
    day = scale.workers_per_day
    rows = [
        ("feature extraction (decode, flow, log-mel)", f"{c['extract_core_s']:.1f} core-s",
         f"{core_hours['extract_core_s']:,.0f} core-h",
         f"{core_hours['extract_core_s'] / day:,.0f} one-core Ray workers"),
        ("teacher inference (object model, fp32; sound < 1 %)", f"{c['teach_core_s']:.1f} core-s",
         f"{core_hours['teach_core_s']:,.0f} core-h",
         f"{core_hours['teach_core_s'] / day:,.0f} one-core Ray workers"),
        ("feature store (log-mel, RGB, flow)", f"{c['store_mb']:.1f} MB",
         f"{c['store_mb'] * minutes / 1e3:,.0f} GB",
         "shared storage or an object store (fsspec URL)"),
        (f"training: action x {scale.action_epochs} + object x {scale.object_epochs} epochs",
         f"{tflop_per_minute:,.0f} TFLOP",
         f"{train_pflop:,.0f} PFLOP: {gpu_hours:,.0f} GPU-h at {scale.gpu_tflops:g} TFLOP/s "
         f"(this CPU: {cpu_hours:,.0f} h)",
         f"{gpu_hours / day:,.1f} GPUs with DDP"),
    ]  # fmt: skip
    lines = [
        f"From the benchmark run of {result['date']} on **{cpu['cpu']}** ({cpu['cores']} cores, "
        f"{cpu['threads']} torch threads), extrapolated to the paper's YouTube-8M sets: "
        f"{scale.train_videos:,} training and {scale.val_videos:,} validation videos of "
        f"{scale.minutes:g} min (training FLOPs: the training videos; one epoch = every "
        "analysis frame once). "
        f"Detection costs {c['detect_core_s']:.0f} core-s per video-minute. GPU throughput is "
        f"an assumption ({scale.gpu_tflops:g} TFLOP/s sustained, `--gpu-tflops`), not a "
        "measurement: no GPU here.",
        "",
        "| work | per video-minute | paper scale | for one day's job |",
        "| --- | --- | --- | --- |",
        *(f"| {a} | {b} | {t} | {d} |" for a, b, t, d in rows),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("result", type=Path, help="bench.json of a run (make bench)")
    parser.add_argument("--into", type=Path, help="rewrite the capacity block of this file")
    parser.add_argument(
        "--gpu-tflops", type=float, default=Scale.gpu_tflops,
        help="assumed sustained training TFLOP/s of one GPU (default 100)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    scale = Scale(gpu_tflops=args.gpu_tflops)
    block = markdown(json.loads(args.result.read_text()), store_mb_per_minute(args.result), scale)
    if args.into is None:
        print(block, end="")
        return 0
    args.into.write_text(update_block(args.into.read_text(), block, str(args.into), "capacity"))
    print(f"wrote the capacity block of {args.into}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
