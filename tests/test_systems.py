"""The three LightningModules on the tiny SynthIPA world: a fast run per module, teachers,
the four action targets, every config instantiates (a killed run: tests/robustness)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from ipd.evaluation.predictions import MapGrid, load_prediction, save_prediction
from ipd.models.vgg_fcn import VGGFCN
from ipd.staging.checkpoints import checkpoint_identity, load_system
from ipd.staging.teach import teach
from ipd.staging.train import build_cli, train
from ipd.systems.sound import SoundTagger
from ipd.systems.video import ActionLocaliser, ObjectLocaliser
from tests.conftest import REPO, TINY_SIZE

TRAINER = ["--trainer.enable_model_summary=false", "--trainer.enable_progress_bar=false"]


def _args(root: Path, world: Path, cache: Path, net: str, extra: list[str]) -> list[str]:
    return [
        f"--trainer.default_root_dir={root}",
        "--trainer.max_epochs=1",
        *TRAINER,
        f"--model.net={net}",
        "--model.net.init_args.width=0.125",
        f"--data.dataset={world}",
        f"--data.cache={cache}",
        *extra,
    ]


@pytest.fixture(scope="module")
def trained(tiny_world, tiny_cache, tmp_path_factory):
    """One epoch of the sound and object stages and their stored teacher outputs."""
    runs = tmp_path_factory.mktemp("runs")
    sound = train(
        "sound",
        _args(runs / "sound", tiny_world, tiny_cache, "ipd.models.sound_fcn.SoundFCN",
              ["--data.clip_frames=8", "--data.clips_per_batch=4"]),
    )  # fmt: skip
    obj = train(
        "object",
        _args(runs / "object", tiny_world, tiny_cache, "ipd.models.vgg_fcn.VGGFCN",
              ["--model.net.init_args.in_channels=3", "--data.stream=rgb",
               f"--data.size={TINY_SIZE}"]),
    )  # fmt: skip
    teach("sound", sound, tiny_world, tiny_cache, runs / "teach_sound", progress=False)
    teach("object", obj, tiny_world, tiny_cache, runs / "teach_object", progress=False)
    return {"runs": runs, "sound": sound, "object": obj}


def test_sound_and_object_runs_write_checkpoints_and_resolved_config(trained):
    for stage in ("sound", "object"):
        root = trained["runs"] / stage
        assert (root / "checkpoints" / "best.ckpt").is_file()
        assert (root / "checkpoints" / "last.ckpt").is_file()
        config = yaml.safe_load((root / "config.yaml").read_text())
        assert config["model"]["net"]["init_args"]["width"] == 0.125
        metrics = (root / "logs" / "csv" / "metrics.csv").read_text()
        assert "val/auc" in metrics and "train/loss" in metrics


def test_checkpoints_reload_weights_only_with_standardizer(trained, tiny_cache):
    sound = load_system(SoundTagger, trained["sound"])
    assert bool(sound.standardizer_set)
    assert sound.mel_std.shape == (3, 128) and float(sound.mel_std.min()) > 0
    obj = load_system(ObjectLocaliser, trained["object"])
    assert obj.net.in_channels == 3 and not obj.training


def test_teachers_cover_every_video_with_the_checkpoint_identity(trained, tiny_world):
    identity = checkpoint_identity(trained["sound"])
    pred = load_prediction(trained["runs"] / "teach_sound" / "violin_train_000.npz")
    assert pred.source == identity
    # 6-s video: ceil(6 / 0.512) = 12 analysis frames, sound output k at t = k * 0.512 s.
    assert pred.scores.shape[1] == 9 and pred.scores.shape[0] >= 12
    np.testing.assert_allclose(pred.times[:3], [0.0, 0.512, 1.024])
    objects = load_prediction(trained["runs"] / "teach_object" / "violin_train_000.npz")
    # 128-px frames of 16:9 videos: 128 x 72 -> ceil(72/32) x ceil(128/32) = 3 x 4 maps, cell
    # (i, j) looking at pixel (32 j, 32 i) of that 72 x 128 input.
    assert objects.maps.shape == (12, 9, 3, 4)
    assert objects.grid == MapGrid(stride=32, offset=0, height=72, width=128)
    # A rerun from the same checkpoint skips every video.
    report = teach("sound", trained["sound"], tiny_world, tiny_world.parent / "cache",
                   trained["runs"] / "teach_sound", progress=False)  # fmt: skip
    assert report.written == [] and len(report.skipped) == 27
    # An object teacher file from before the grid was stored is recomputed, the others reused.
    path = trained["runs"] / "teach_object" / "violin_train_000.npz"
    save_prediction(path, dataclasses.replace(objects, grid=None))
    report = teach("object", trained["object"], tiny_world, tiny_world.parent / "cache",
                   trained["runs"] / "teach_object", progress=False)  # fmt: skip
    assert report.written == ["violin_train_000"] and len(report.skipped) == 26
    assert load_prediction(path).grid == objects.grid


@pytest.mark.parametrize("target", ["VT", "ST", "OT", "SOT"])
def test_action_model_trains_with_each_target(trained, tiny_world, tiny_cache, target):
    runs = trained["runs"]
    teachers = [f"--data.sound_teacher={runs / 'teach_sound'}",
                f"--data.object_teacher={runs / 'teach_object'}"]  # fmt: skip
    best = train(
        "action",
        _args(runs / f"action_{target}", tiny_world, tiny_cache, "ipd.models.vgg_fcn.VGGFCN",
              ["--model.net.init_args.in_channels=10", f"--model.target={target}",
               "--data.stream=flow", f"--data.size={TINY_SIZE}", *teachers]),
    )  # fmt: skip
    system = load_system(ActionLocaliser, best)
    assert system.target.value == target and (system.v, system.u) == (0.5, 0.3)
    with torch.no_grad():
        maps = system.maps(torch.zeros(2, 10, 72, 128))
    assert maps.shape == (2, 9, 3, 4)


CONFIG_FILES = sorted(p for p in (REPO / "configs").rglob("*.yaml") if p.stem != "action")


@pytest.mark.parametrize("config", CONFIG_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_config_instantiates(config, tmp_path):
    stage = config.stem.split("_")[0]
    files = [config.parent / "action.yaml", config] if stage == "action" else [config]
    args = [a for f in files for a in ("--config", str(f))]
    args += [f"--trainer.default_root_dir={tmp_path}"]
    data = ["folder"] if stage == "pretrain" else ["dataset", "cache"]  # the command names them
    args += [f"--data.{key}={tmp_path / key}" for key in data]
    if stage == "object":
        # The file a pretraining run would leave: Conv1-5 of a network of the same shape.
        spec = dict(yaml.safe_load(config.read_text())["model"]["net"]["init_args"])
        spec.pop("pretrained_early", None)
        weights = tmp_path / "early.pt"
        torch.save(VGGFCN(**spec).features.state_dict(), weights)
        args.append(f"--model.net.init_args.pretrained_early={weights}")
    cli = build_cli(stage, args)
    assert cli.model.net is not None
    assert cli.model.hparams.num_classes == 9  # from the label space, in no config
    if stage == "pretrain":
        assert cli.datamodule.size == 112
    else:
        assert cli.datamodule.params.size in (128, 256)


def test_every_epoch_leaves_a_resume_point_between_validations(tiny_world, tiny_cache, tmp_path):
    root = tmp_path / "run"
    args = _args(root, tiny_world, tiny_cache, "ipd.models.vgg_fcn.VGGFCN",
                 ["--model.net.init_args.in_channels=3", "--data.stream=rgb",
                  f"--data.size={TINY_SIZE}", "--trainer.max_epochs=2",
                  "--trainer.check_val_every_n_epoch=5"])  # fmt: skip
    selected = train("object", args)
    last = root / "checkpoints" / "last.ckpt"
    # No validation ran (2 epochs < 5): no best.ckpt, and the model is the last epoch's.
    assert not (root / "checkpoints" / "best.ckpt").exists()
    assert selected == last
    assert torch.load(last, map_location="cpu", weights_only=True)["epoch"] == 1


def test_frozen_early_layers_keep_their_batch_norm_statistics_through_a_training_epoch(tmp_path):
    """Frozen Conv1-5 are unchanged by training: weights and BatchNorm running statistics
    (with ``batch_norm`` they moved in train mode before); Conv6-8 still learn."""
    from lightning.pytorch import Trainer

    torch.manual_seed(0)
    spec = {"in_channels": 3, "num_classes": 9, "width": 0.125, "dropout": 0.0, "batch_norm": True}
    weights = tmp_path / "early.pt"  # freezing is for pretrained Conv1-5
    torch.save(VGGFCN(**spec).features.state_dict(), weights)
    net = VGGFCN(**spec, pretrained_early=weights)
    system = ObjectLocaliser(net, num_classes=9, input_scale=1 / 64, freeze_early_epochs=5)
    x = torch.rand(6, 2, 3, 64, 96) * 255  # (clips, frames, 3, H, W)
    tags = torch.zeros(6, 2, 9)
    tags[:, :, 3] = 1
    batches = [{"x": x[i : i + 2], "tags": tags[i : i + 2]} for i in range(0, 6, 2)]
    early = {k: v.clone() for k, v in net.features.state_dict().items()}
    head = {k: v.clone() for k, v in net.head.state_dict().items()}
    trainer = Trainer(max_epochs=1, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False,
                      limit_val_batches=0, default_root_dir=tmp_path)  # fmt: skip
    trainer.fit(system, train_dataloaders=torch.utils.data.DataLoader(batches, batch_size=None))
    assert net.early_frozen and not net.features.training and net.head.training
    for key, value in net.features.state_dict().items():
        assert torch.equal(value, early[key]), key  # running_mean/var, num_batches_tracked too
    assert not torch.equal(net.head.state_dict()["bn6.running_mean"], head["bn6.running_mean"])
    assert not torch.equal(net.head.state_dict()["conv8.weight"], head["conv8.weight"])
    net.set_early_trainable(True)
    assert net.features.training  # unfrozen: back in the mode of the whole model


def test_without_pretrained_conv1_5_nothing_is_frozen(caplog):
    net = VGGFCN(in_channels=3, num_classes=9, width=0.125)
    system = ObjectLocaliser(net, num_classes=9, freeze_early_epochs=20)  # the paper's setting
    with caplog.at_level("INFO"):
        system.on_fit_start()
    assert system.freeze_early_epochs == 0
    assert "no pretrained Conv1-5" in caplog.text and "not 20 frozen epochs" in caplog.text
