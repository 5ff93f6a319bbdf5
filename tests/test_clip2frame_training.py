"""The chapter-3 clip2frame FCN trains as the sound model through the same system and config
machinery as the chapter-4 FCN (configs/demo/sound_clip2frame.yaml)."""

from __future__ import annotations

import math

import pytest
import torch

from ipd.staging.checkpoints import load_system
from ipd.staging.train import train
from ipd.systems.sound import SoundTagger
from tests.conftest import REPO


@pytest.mark.slow
def test_clip2frame_trains_as_the_sound_model(tiny_world, tiny_cache, tmp_path):
    best = train(
        "sound",
        [
            "--config", str(REPO / "configs" / "demo" / "sound_clip2frame.yaml"),
            f"--trainer.default_root_dir={tmp_path}",
            "--trainer.max_epochs=2",
            "--trainer.enable_progress_bar=false",
            f"--data.dataset={tiny_world}",
            f"--data.cache={tiny_cache}",
            "--data.clip_frames=8",
            "--data.clips_per_batch=3",
        ],
    )  # fmt: skip
    system = load_system(SoundTagger, best)
    assert type(system.net).__name__ == "Clip2Frame"
    rows = (tmp_path / "logs" / "csv" / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    losses = [r.split(",")[header.index("train/loss_epoch")] for r in rows[1:]]
    epoch_losses = [float(x) for x in losses if x]
    assert len(epoch_losses) == 2 and all(math.isfinite(x) for x in epoch_losses)
    # the adaptive Gaussian widths were trained: they moved from total_stride x sigma = 256
    log_sigma = system.net.accumulation.log_sigma.detach()
    assert not torch.allclose(log_sigma, torch.full_like(log_sigma, math.log(256 / 16)))
