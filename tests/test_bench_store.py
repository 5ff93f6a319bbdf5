"""``python -m bench.store``: the feature store's measurements and their before/after table."""

from __future__ import annotations

import pytest

from bench.store import measure, table
from tests.conftest import TINY_SIZE

RUN = {
    "date": "2026-12-03",
    "processor": "Test CPU",
    "videos": 4,
    "video_minutes": 2.0,
    "bytes_per_video_minute": {"audio": 1e6, "rgb": 4e6, "flow": 5e6, "total": 10e6},
    "subclip_read": {"videos": 4, "cold_ms": 100.0, "warm_ms": 50.0},
    "epoch_loading": {"batches": 3, "epoch_s": [20.0, 4.0], "peak_rss_mb": 2000.0},
}


def test_the_table_compares_every_measurement():
    after = {
        **RUN,
        "date": "2026-12-04",
        "bytes_per_video_minute": {"audio": 0.5e6, "rgb": 4.4e6, "flow": 3e6, "total": 7.9e6},
        "subclip_read": {"videos": 4, "cold_ms": 25.0, "warm_ms": 10.0},
        "epoch_loading": {"batches": 3, "epoch_s": [5.0, 5.0], "peak_rss_mb": 500.0},
    }
    slower = {**after, "subclip_read": {"videos": 4, "cold_ms": 99.0, "warm_ms": 99.0}}
    text = table([RUN], [after, slower, after])  # the after timings: medians of three runs
    assert "on 2026-12-03 (Test CPU, before) and 2026-12-04 (Test CPU, after), 1 and 3 runs" in text
    assert "| bytes per video-minute: rgb | 4.0 MB | 4.4 MB | 1.10 |" in text
    assert "| bytes per video-minute: total | 10.0 MB | 7.9 MB | 0.79 |" in text
    assert "| one 5-s sub-clip, all streams, cold | 100 ms | 25 ms | 0.25 |" in text
    assert "| action epoch 2: loading only | 4.0 s | 5.0 s | 1.25 |" in text
    assert "| peak resident memory of the loading run | 2,000 MB | 500 MB | 0.25 |" in text


@pytest.mark.slow
def test_measure_reads_the_tiny_world(tiny_world, tiny_cache):
    result = measure(tiny_world, tiny_cache, TINY_SIZE)
    assert result["videos"] == 27 and result["video_minutes"] == pytest.approx(27 * 6 / 60, 0.02)
    per_minute = result["bytes_per_video_minute"]
    assert per_minute["total"] == pytest.approx(per_minute["audio"] + per_minute["rgb"]
                                                + per_minute["flow"])  # fmt: skip
    assert 0 < per_minute["audio"] < per_minute["flow"]
    assert result["subclip_read"]["videos"] == 9  # the tiny world's test videos
    assert result["subclip_read"]["cold_ms"] > 0 and result["subclip_read"]["warm_ms"] > 0
    assert len(result["epoch_loading"]["epoch_s"]) == 2 and result["epoch_loading"]["batches"] > 0
