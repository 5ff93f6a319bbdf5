"""The one decoding pass (``ipd.features.stream``): batches equal the whole-video computation, each
flow is computed once, the worker thread is bounded and hands its errors over; precision checks."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from ipd.errors import InputError
from ipd.features.flow import flow_function, iter_flows, stacks
from ipd.features.params import ExtractParams
from ipd.features.stream import iter_batches, plan_visual, prefetch
from ipd.features.video import iter_frames_at
from tests.test_features_media import texture, write_video


@pytest.fixture(scope="module")
def sliding(tmp_path_factory):
    """A texture sliding right 3 px per frame, 96 x 160 at 15 fps for 9.5 s (T = 19)."""
    base = texture(96, 160 + 3 * 150, seed=5)
    frames = [np.stack([base[:, 3 * i : 3 * i + 160]] * 3, axis=-1) for i in range(143)]
    return write_video(tmp_path_factory.mktemp("stream") / "slide.mp4", frames, 15)


def test_batches_equal_the_whole_video_pass(sliding):
    params = ExtractParams(size=160)
    plan = plan_visual(sliding, params)
    assert plan.num_frames == 19 and plan.shape == (96, 160) and len(plan.times) == 75
    calls = []
    farneback = flow_function("farneback")

    def counted(a, b):
        calls.append(1)
        return farneback(a, b)

    batches = list(iter_batches(sliding, plan, counted, batch=8))
    assert [(b.start, len(b), b.last) for b in batches] == [(0, 8, False), (8, 8, False),
                                                              (16, 3, True)]  # fmt: skip
    # Each flow between two sampled frames is computed once: 75 frames, 74 flows.
    assert len(calls) == 74
    frames = [f for f, _, _ in iter_frames_at(sliding, plan.times, plan.shape)]
    grays = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    whole = np.stack(list(iter_flows(grays, 19, farneback)))  # (4T + 1, 2, H, W)
    assert whole.shape == (77, 2, 96, 160)
    np.testing.assert_array_equal(np.concatenate([b.members for b in batches]), whole)
    np.testing.assert_array_equal(np.concatenate([b.flow for b in batches]), stacks(whole))
    # Analysis frame k is gray frame 4k. The content moves 3 px left per source frame: the
    # centre flow of stack 5 (flow 20, gray frame 20 -> 21) spans the source frames between.
    rgb = np.concatenate([b.rgb for b in batches])
    np.testing.assert_array_equal(rgb, np.stack(frames[::4]))
    sources = [s for b in batches for s in b.sources]
    assert len(sources) == 75 and sources[0] == (0, 0.0)
    shift = -3 * (sources[21][0] - sources[20][0])
    assert shift in (-3, -6)
    centre = np.concatenate([b.flow for b in batches])[5, 4]  # frame 5, x of flow 4k
    assert np.median(centre[20:-20, 20:-20]) == pytest.approx(shift, abs=0.3)


def test_prefetch_hands_over_errors_and_stops_early():
    def failing():
        yield 1
        raise InputError("clip.mp4: decoding failed after frame 3")

    got = []
    with pytest.raises(InputError, match="decoding failed after frame 3"):
        for item in prefetch(failing()):
            got.append(item)
    assert got == [1]

    made = []

    def endless():
        for i in range(1000):
            made.append(i)
            yield i

    before = threading.active_count()
    for item in prefetch(endless(), depth=2):
        if item == 3:
            time.sleep(0.3)  # the worker fills the queue and waits
            ahead = len(made) - 4
            break
    assert ahead <= 3  # depth 2 in the queue + 1 in hand, never the whole video
    assert threading.active_count() == before  # the worker stopped
    assert len(made) < 10


def test_precision_is_checked_against_the_processor(monkeypatch):
    from ipd import precision

    with pytest.raises(InputError, match="--precision 16: choose 32 or bf16"):
        precision.check_precision("16")
    assert precision.check_precision("32-true") == "32"
    monkeypatch.setattr(precision, "cpu_flags", lambda: ["avx2", "fma"])
    monkeypatch.setattr(precision, "cpu_model", lambda: "Old CPU")
    with pytest.raises(InputError, match=r"\(Old CPU\) has neither AVX512-BF16 nor AMX"):
        precision.check_precision("bf16")
    monkeypatch.setattr(precision, "cpu_flags", lambda: ["avx512f", "avx512_bf16"])
    assert precision.check_precision("bf16-mixed") == "bf16"
    assert precision.kernel_path("bf16") == "bf16 (avx512_bf16)"
