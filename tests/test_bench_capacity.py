"""The capacity note's arithmetic (bench/capacity.py), checked by hand on a made-up run."""

from __future__ import annotations

import json

import pytest

from bench.capacity import Scale, costs, markdown, store_mb_per_minute

RUN = {
    "date": "2026-01-01 00:00 UTC",
    "cpu": {"cpu": "Test CPU", "cores": 2, "threads": 2},
    "video": {"seconds": 60.0},
    "extract": {"seconds_1_worker": 30.0, "cores_used_1_worker": 1.0},  # 4 x 45 s = 3 min
    "detect": {"cpu_s": 40.0},
    "networks": {
        "fp32": {
            "action": {"gflop_per_frame": 4.0, "gflops": 100.0},
            "object": {"gflop_per_frame": 3.0, "ms_per_frame": 40.0},
        }
    },
}


def test_costs_per_video_minute_by_hand():
    c = costs(RUN, store_mb=20.0)
    assert c["extract_core_s"] == pytest.approx(30.0 / 3)  # 30 core-s for 3 video-minutes
    assert c["teach_core_s"] == pytest.approx(0.040 * 7.8125 * 60 * 2)  # 468.75 frames, 2 cores
    assert c["detect_core_s"] == pytest.approx(40.0)
    assert c["action_tflop_epoch"] == pytest.approx(4.0 * 3 * 120 / 1e3)  # 120 frames at 2 fps
    assert c["object_tflop_epoch"] == pytest.approx(3.0 * 3 * 468.75 / 1e3)


def test_paper_scale_totals_by_hand():
    scale = Scale(train_videos=1000, val_videos=0, action_epochs=10, object_epochs=0,
                  gpu_tflops=50.0)  # fmt: skip
    text = markdown(RUN, 20.0, scale)
    # extraction: 10 core-s x 1000 min = 2.78 core-h; store 20 MB x 1000 = 20 GB;
    # training: 1.44 TFLOP x 10 epochs x 1000 min = 14.4 PFLOP = 14,400 TFLOP / 50 / 3600 = 0.08 h
    assert "| 10.0 core-s | 3 core-h |" in text
    assert "| 20.0 MB | 20 GB |" in text
    assert "14 PFLOP: 0 GPU-h at 50 TFLOP/s" in text
    assert "Test CPU" in text and "assumption" in text


def test_store_size_is_read_from_the_runs_cache(tmp_path):
    (tmp_path / "bench.json").write_text(json.dumps(RUN))
    assert store_mb_per_minute(tmp_path / "bench.json") is None
    stream = tmp_path / "work" / "cache_60s" / "flow-abc"
    (stream / "video_60s.zarr" / "flow").mkdir(parents=True)
    (stream / "video_60s.zarr" / "flow" / "c").write_bytes(b"x" * 1_499_000)
    (stream / "video_60s.zarr" / "zarr.json").write_bytes(b"x" * 1_000)
    (stream / "params.json").write_text("{}")  # not a stored feature
    assert store_mb_per_minute(tmp_path / "bench.json") == pytest.approx(1.5)
