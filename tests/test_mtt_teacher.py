"""The authors' released MagnaTagATune tagger as the sound teacher of an ST action model, by
configuration alone (issue: chapter-3 model as teacher)."""

from __future__ import annotations

import numpy as np
import pytest

from ipd.evaluation.predictions import load_prediction
from ipd.features.batch import extract_many
from ipd.features.params import ExtractParams
from ipd.staging.checkpoints import extract_params_of
from ipd.staging.teach import teach
from ipd.staging.train import train
from tests.conftest import REPO, TINY_SIZE

SIX_WINDOWS = (512, 1024, 2048, 4096, 8192, 16384)


@pytest.mark.slow
def test_released_tagger_teaches_an_st_action_model(
    reference_data, tiny_world, tiny_cache, tmp_path
):
    from ipd.tagging.teacher_net import write_teacher_checkpoint

    ckpt = write_teacher_checkpoint(tmp_path / "mtt.ckpt", reference_data / "clip2frame")
    assert extract_params_of(ckpt).windows == SIX_WINDOWS
    from ipd.data.index import read_index

    items = [(e.video_id, e.path) for e in read_index(tiny_world)]
    params = ExtractParams(windows=SIX_WINDOWS)
    assert extract_many(items, tiny_cache, params, streams=("audio",), progress=False).ok
    report = teach("sound", ckpt, tiny_world, tiny_cache, tmp_path / "sound_mtt", ("train", "val"))
    assert not report.failed and len(report.written) == 18
    pred = load_prediction(tmp_path / "sound_mtt" / "violin_train_000.npz")
    assert np.isnan(pred.scores[:, 0]).all()  # Accordion: no MagnaTagATune tag, not covered
    assert np.isfinite(pred.scores[:, 1:]).all()

    configs = REPO / "configs" / "demo"
    best = train(
        "action",
        [
            "--config", str(configs / "action.yaml"),
            "--config", str(configs / "action_ST05_mtt.yaml"),
            f"--trainer.default_root_dir={tmp_path / 'run'}",
            "--trainer.max_epochs=1",
            "--trainer.enable_progress_bar=false",
            "--model.net.init_args.width=0.125",
            f"--data.dataset={tiny_world}",
            f"--data.cache={tiny_cache}",
            f"--data.size={TINY_SIZE}",
            f"--data.sound_teacher={tmp_path / 'sound_mtt'}",
        ],
    )  # fmt: skip
    assert best.is_file()
