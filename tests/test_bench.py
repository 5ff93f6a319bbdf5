"""The benchmark's equality check, fast: on a 4-s video, ``ipd detect`` (one decoding pass, each
flow once, batches of 8) gives the outputs of the reference-style pipeline (every frame decoded,
5 fresh flows per stack, batch 1), with the same paper-width weights."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from bench import reference
from bench.media import make_video
from bench.models import write_models
from bench.run import max_abs_diff, outputs_of
from ipd.cli.main import main
from ipd.detect.models import load_detector

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")


def test_detect_equals_the_reference_pipeline(tmp_path):
    models = tmp_path / "models"
    write_models(models)
    video = make_video(tmp_path / "short.mp4", 4, size="320x180", fps=25)
    ref = reference.run(video, models)
    # T = ceil(4 / 0.512) = 8 frames of 256 x 144: maps of ceil(144/32) x 256/32 = 5 x 8 cells.
    assert ref["action"].shape == ref["object"].shape == (8, 9, 5, 8)
    assert ref["action"].std() > 1e-3 and ref["sound"].std() > 1e-3  # not constant outputs
    out = tmp_path / "out"
    argv = ["detect", str(video), "--out", str(out), "--no-video", "--no-report",
            "--original-action", str(models / "action.torch"),
            "--original-object", str(models / "object.torch"),
            "--original-sound", str(models / "sound.torch"),
            "--scalers", str(models / "scalers")]  # fmt: skip
    assert main(argv) == 0
    diffs = max_abs_diff(outputs_of(out / "short"), ref)
    assert set(diffs) == {"action", "object", "sound"}
    assert max(diffs.values()) <= 1e-4, diffs
    # The tolerance is not blind: the authors' gray conversion (BGR2GRAY on RGB frames, i.e.
    # RGB2GRAY on reversed channels) moves the action maps by far more.
    frames, num = reference.decode_sampled(video, 256)
    authors = reference.flow_stacks(np.ascontiguousarray(frames[..., ::-1]), num)
    detector = load_detector(original_action=models / "action.torch")
    with torch.no_grad():
        maps = detector.action.maps(torch.from_numpy(authors)).numpy()
    assert np.abs(maps - ref["action"]).max() > 1e-3
