"""``make bench``: time ``ipd detect`` and ``ipd extract`` against the reference-style pipeline.

In one run on generated videos (``bench.media``; 60 s and 10 min, 640 x 360, 30 fps, with audio)
and paper-width models with random weights in the authors' format (``bench.models``):

- the reference-style pipeline (``bench.reference``) and ``ipd detect --no-video --no-report``
  on the 60-s video, each in a fresh process (wall time includes start-up: imports, model
  loading), fp32; ``ipd detect --precision bf16`` where the processor has it natively;
- the outputs compared: the largest absolute difference of the action and object maps and the
  sound scores (fp32 must be <= 1e-4, asserted);
- the networks alone (batch 8, in this process) in GFLOP/s against this machine's measured
  matrix-multiply peaks in fp32 and bf16;
- peak memory on the 10-minute video: ``ipd detect`` in full, the reference pipeline's feature
  stage (decoding and flow stacks, where its memory peaks; its batch-1 networks add ~0.1 GB);
- ``ipd extract --workers 1`` and ``--workers 2`` on four 45-s videos; stored flow per
  video-minute and the mean error of its rounding;
- action-model training throughput (``bench.training``).

Writes ``OUT/bench.json`` and prints a table; the last line names the JSON. ``--quick`` skips
the 10-minute video and the training measurement (for a first look).
"""

from __future__ import annotations

import argparse
import datetime
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.media import make_video
from bench.models import write_models
from ipd.machine import machine_info
from ipd.precision import bf16_problem, kernel_path

MAX_DIFF_FP32 = 1e-4
# Extraction clips: long enough that each worker process's start-up (importing torch, OpenCV,
# FFmpeg: ~2-3 CPU-s) is small beside its work, as with the paper's one-minute videos.
CLIP_SECONDS = 45
EXTRACT_CLIPS = 4  # videos of CLIP_SECONDS each
DETECT_SCRIPT = """
import json, resource, sys, time
start = time.perf_counter()
from ipd.cli.main import main
code = main(sys.argv[1:])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"code": code, "peak_rss_mb": round(peak, 1),
                  "in_process_s": round(time.perf_counter() - start, 3)}))
"""


def run_json(argv: list[str]) -> dict:
    """Run ``argv`` (a Python process printing one JSON line last); add its wall seconds and the
    CPU seconds it and its children used (``cores_used`` = CPU / wall)."""
    before = _child_cpu()
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    cpu = _child_cpu() - before
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv[:4]))} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    timing = {"wall_s": round(seconds, 3), "cpu_s": round(cpu, 3)}
    return {**timing, "cores_used": round(cpu / seconds, 2), **result}


def _child_cpu() -> float:
    """User + system CPU seconds of this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def reference(video: Path, models: Path, out: Path, features_only: bool = False) -> dict:
    """The reference-style pipeline in a fresh process."""
    argv = [sys.executable, "-m", "bench.reference", str(video), str(models), str(out)]
    return run_json(argv + (["--features-only"] if features_only else []))


def detect(video: Path, models: Path, out: Path, precision: str = "32") -> dict:
    """``ipd detect`` (all three models, fusion, scores; no overlay video, no page), fresh process.

    Returns:
        wall seconds, peak RSS, and the per-step seconds ``scores.json`` records.
    """
    argv = [sys.executable, "-c", DETECT_SCRIPT, "detect", str(video), "--out", str(out),
            "--original-action", str(models / "action.torch"),
            "--original-object", str(models / "object.torch"),
            "--original-sound", str(models / "sound.torch"), "--scalers", str(models / "scalers"),
            "--no-video", "--no-report", "--precision", precision]  # fmt: skip
    result = run_json(argv)
    doc = json.loads((out / video.stem / "scores.json").read_text())
    return {**result, "steps_s": doc["seconds"]}


def outputs_of(folder: Path) -> dict[str, np.ndarray]:
    """``ipd detect``'s A, O maps and S scores from its prediction files."""
    from ipd.evaluation.predictions import load_prediction

    preds = {r: load_prediction(folder / "predictions" / f"{r}.npz") for r in ("action", "object")}
    sound = load_prediction(folder / "predictions" / "sound.npz")
    return {"action": preds["action"].maps, "object": preds["object"].maps, "sound": sound.scores}


def max_abs_diff(ours: dict[str, np.ndarray], ref) -> dict[str, float]:
    """Largest absolute difference per output (sound on the video's ``T`` frames); ``ref``: the
    reference's outputs (a dict or its ``.npz`` file)."""
    ref = np.load(ref) if isinstance(ref, (str, Path)) else ref
    diffs = {}
    for role, value in ours.items():
        other = ref[role][: len(value)]
        if other.shape != value.shape:
            raise AssertionError(f"{role}: shapes differ, {other.shape} vs {value.shape}")
        diffs[role] = float(np.abs(other - value).max())
    return diffs


def matmul_peak(dtype_name: str, size: int = 2048, repeat: int = 8) -> float:
    """Measured GFLOP/s of a ``size``-square matrix product in ``float32`` or ``bfloat16``."""
    import torch

    dtype = getattr(torch, dtype_name)
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(repeat):
        a @ b
    return 2 * size**3 * repeat / (time.perf_counter() - start) / 1e9


def network_speed(models: Path, precision: str, frames: int = 16) -> dict:
    """GFLOP/s of the action and object networks on 256 x 144 inputs, batches of 8."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from ipd.detect.models import load_detector
    from ipd.inference import FRAME_BATCH, batch_maps

    detector = load_detector(
        original_action=models / "action.torch", original_object=models / "object.torch"
    )
    out = {}
    for role, system, channels in (("action", detector.action, 10), ("object", detector.object, 3)):
        x = np.random.default_rng(0).normal(0, 3, (FRAME_BATCH, channels, 144, 256))
        x = x.astype(np.float32)
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            system.maps(torch.from_numpy(x[:1]))
        flops = counter.get_total_flops()
        batch_maps(system, x, precision)  # warm-up
        start = time.perf_counter()
        for _ in range(frames // FRAME_BATCH):
            batch_maps(system, x, precision)
        per_frame = (time.perf_counter() - start) / frames
        out[role] = {
            "gflop_per_frame": round(flops / 1e9, 3),
            "ms_per_frame": round(per_frame * 1000, 1),
            "gflops": round(flops / per_frame / 1e9, 1),
        }
    return out


def extract_scaling(videos: list[Path], work: Path) -> dict:
    """Seconds of ``ipd extract`` (rgb, flow, audio) on ``videos`` with 1 and 2 workers."""
    runs = {}
    for workers in (1, 2):
        cache = work / f"cache_workers{workers}"
        argv = [sys.executable, "-c", DETECT_SCRIPT, "extract", *map(str, videos),
                "--cache", str(cache), "--workers", str(workers), "--force"]  # fmt: skip
        runs[workers] = run_json(argv)
    return {
        "seconds_1_worker": runs[1]["wall_s"],
        "seconds_2_workers": runs[2]["wall_s"],
        "cores_used_1_worker": runs[1]["cores_used"],
        "cores_used_2_workers": runs[2]["cores_used"],
        "scaling": round(runs[1]["wall_s"] / runs[2]["wall_s"], 2),
    }


def flow_storage(video: Path, cache: Path) -> dict:
    """Bytes of the stored flow per video-minute and the mean rounding error of its values."""
    from ipd.features import cache as store
    from ipd.features.flow import flow_function, round_member
    from ipd.features.params import ExtractParams
    from ipd.features.stream import iter_batches, plan_visual

    params = ExtractParams()
    plan = plan_visual(video, params)
    stored = Path(store.feature_path(cache, "flow", video.stem, params))
    size = sum(p.stat().st_size for p in stored.rglob("*") if p.is_file())
    per_minute = size / 1e6 / (plan.info.duration / 60)
    errors = []
    for batch in iter_batches(video, plan, flow_function("farneback"), 16):
        raw = batch.members
        stored = round_member(raw).astype(np.float32)
        errors.append(np.abs(stored - raw).mean())
    return {"flow_mb_per_min": round(per_minute, 2), "flow_quant_err_px": float(np.mean(errors))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench-results"), help="results folder")
    parser.add_argument("--quick", action="store_true", help="skip the 10-min video and training")
    args = parser.parse_args(argv)
    out, work = args.out, args.out / "work"
    started = datetime.datetime.now(datetime.UTC)
    print("making the test videos and models ...", flush=True)
    models = work / "models"
    write_models(models)
    video = make_video(work / "video_60s.mp4", 60)
    clips = [make_video(work / f"clip_{i}.mp4", CLIP_SECONDS) for i in range(EXTRACT_CLIPS)]
    bf16 = bf16_problem() is None

    print("reference-style pipeline, 60 s ...", flush=True)
    ref = reference(video, models, work / "reference_60s.npz")
    print("ipd detect, 60 s ...", flush=True)
    ours = detect(video, models, work / "detect_fp32")
    diffs = max_abs_diff(outputs_of(work / "detect_fp32" / video.stem), work / "reference_60s.npz")
    ours_bf16 = diffs_bf16 = None
    if bf16:
        ours_bf16 = detect(video, models, work / "detect_bf16", "bf16")
        folder = work / "detect_bf16" / video.stem
        diffs_bf16 = max_abs_diff(outputs_of(folder), work / "reference_60s.npz")

    print("networks and matrix-multiply peaks ...", flush=True)
    peaks = {"fp32": round(matmul_peak("float32"), 1)}
    peaks["bf16"] = round(matmul_peak("bfloat16"), 1) if bf16 else None
    nets = {"fp32": network_speed(models, "32")}
    nets["bf16"] = network_speed(models, "bf16") if bf16 else None

    print("ipd extract, 1 and 2 workers ...", flush=True)
    scaling = extract_scaling(clips, work)
    run_json([sys.executable, "-c", DETECT_SCRIPT, "extract", str(video), "--cache",
              str(work / "cache_60s")])  # fmt: skip
    storage = flow_storage(video, work / "cache_60s")

    long = training = None
    if not args.quick:
        print("10-minute video: ipd detect, reference features ...", flush=True)
        video10 = make_video(work / "video_10min.mp4", 600)
        long = {
            "detect": detect(video10, models, work / "detect_10min"),
            "reference_features": reference(
                video10, models, work / "reference_10min.npz", features_only=True
            ),
        }
        print("action-model training throughput ...", flush=True)
        from bench.training import training_throughput

        training = training_throughput(work / "training")

    seconds = 60.0
    result = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": {
            **machine_info(),
            "kernels_fp32": kernel_path("32"),
            "kernels_bf16": kernel_path("bf16") if bf16 else None,
        },  # fmt: skip
        "video": {"seconds": seconds, "size": "640x360", "fps": 30, "frames_256": "256x144"},
        "reference": ref,
        "detect": ours,
        "detect_bf16": ours_bf16,
        "speedup_detect": round(ref["wall_s"] / ours["wall_s"], 2),
        "rtf_detect": round(seconds / ours["wall_s"], 2),
        "rtf_detect_bf16": round(seconds / ours_bf16["wall_s"], 2) if ours_bf16 else None,
        "rtf_reference": round(seconds / ref["wall_s"], 2),
        "max_abs_diff": max(diffs.values()),
        "max_abs_diff_by_output": diffs,
        "max_abs_diff_bf16": max(diffs_bf16.values()) if diffs_bf16 else None,
        "matmul_gflops": peaks,
        "networks": nets,
        "peak_rss_mb_detect_60s": ours["peak_rss_mb"],
        "peak_rss_mb_reference_60s": ref["peak_rss_mb"],
        "peak_rss_mb_detect_10min": long["detect"]["peak_rss_mb"] if long else None,
        "peak_rss_mb_reference_10min": long["reference_features"]["peak_rss_mb"] if long else None,
        "ten_minutes": long,
        "extract": scaling,
        "extract_scaling_2_workers": scaling["scaling"],
        **storage,
        "training": training,
    }
    out.mkdir(parents=True, exist_ok=True)
    path = out / "bench.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    from bench.table import markdown

    print(markdown(result))
    if result["max_abs_diff"] > MAX_DIFF_FP32:
        print(f"FAILED: outputs differ by {result['max_abs_diff']:.2e} > {MAX_DIFF_FP32}")
        return 1
    print(
        f"bench: detect {result['rtf_detect']}x real time (fp32), {result['speedup_detect']}x "
        f"the reference, outputs within {result['max_abs_diff']:.1e}; results in {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
