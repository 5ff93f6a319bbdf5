"""The ImageNet stand-in and the pretraining stage: crops, image batches, ``ipd train pretrain``,
and an object run that starts from (and keeps, while frozen) the pretrained Conv1-5."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from ipd.cli.main import main
from ipd.data.datasets import LabelledImages
from ipd.errors import InputError
from ipd.evaluation.objects import read_voc_dir
from ipd.labels import load_label_space
from ipd.models.vgg_fcn import VGGFCN
from ipd.staging.chain import Runs, World, stage_config, stage_configs
from ipd.staging.checkpoints import load_system
from ipd.staging.train import train
from ipd.synth.config import PRESETS
from ipd.synth.crops import build_box_images, build_crops, crop_around, crop_with_box
from ipd.systems.video import ObjectLocaliser
from tests.conftest import TINY_SIZE

TRAINER = ["--trainer.enable_model_summary=false", "--trainer.enable_progress_bar=false"]
NET = ["--model.net=ipd.models.vgg_fcn.VGGFCN", "--model.net.init_args.width=0.125",
       "--model.net.init_args.batch_norm=true"]  # fmt: skip


@pytest.fixture(scope="module")
def crops(tmp_path_factory) -> Path:
    """Four crops per instrument of the tiny world (3 train, 1 val), 64 px."""
    out = tmp_path_factory.mktemp("crops") / "imagenet"
    argv = ["synth", "--preset", "tiny", "--out", str(out), "--object-crops", "4"]
    assert main([*argv, "--crop-size", "64", "--no-progress"]) == 0
    return out


def test_crops_are_image_folders_per_label_and_a_rerun_reuses_them(crops):
    labels = load_label_space()
    for split, count in (("train", 3), ("val", 1)):
        assert sorted(p.name for p in (crops / split).iterdir()) == sorted(labels.names)
        for name in labels.names:
            files = sorted((crops / split / name).glob("*.jpg"))
            assert len(files) == count
            assert cv2.imread(str(files[0])).shape == (64, 64, 3)
    stamp = json.loads((crops / "crops_config.json").read_text())
    assert (stamp["per_class"], stamp["size"], stamp["val"]) == (4, 64, 1)
    _rerun_reuses_and_other_settings_are_refused(build_crops, crops, 4, 36)


def _rerun_reuses_and_other_settings_are_refused(build, folder: Path, per_class: int, total: int):
    """A rerun of ``build`` (64 px, tiny world) renders nothing and changes no byte; a rerun
    with another count is refused."""
    before = {p: p.read_bytes() for p in folder.rglob("*.*")}
    summary = build(folder, PRESETS["tiny"], per_class, 64, progress=False)
    assert (summary.rendered, summary.reused) == (0, total)
    assert {p: p.read_bytes() for p in folder.rglob("*.*")} == before
    with pytest.raises(InputError, match="other settings"):
        build(folder, PRESETS["tiny"], per_class + 1, 64, progress=False)


def test_a_crop_is_a_square_around_the_box():
    frame = np.zeros((90, 160, 3), np.uint8)
    frame[40:50, 100:120] = 255  # a 20 x 10 px instrument
    for seed in range(5):
        crop = crop_around(frame, (100, 40, 119, 49), 40, np.random.default_rng(seed))
        assert crop.shape == (40, 40, 3)
        # The crop's side is 1.1-1.6 x the box's longer side: the box spans 1/1.6-1/1.1 of it.
        cols = np.nonzero(crop[..., 0].max(axis=0) > 127)[0]
        rows = np.nonzero(crop[..., 0].max(axis=1) > 127)[0]
        assert 40 / 1.6 - 1 <= len(cols) <= 40 / 1.1 + 1
        assert 20 / 1.6 - 1 <= len(rows) <= 20 / 1.1 + 1
        # Its centre moves by at most 15 % of the side (6 px of 40) from the crop's.
        assert abs(cols.mean() - 19.5) <= 6.5 and abs(rows.mean() - 19.5) <= 6.5


def test_the_box_follows_the_instrument_into_the_crop():
    frame = np.zeros((90, 160, 3), np.uint8)
    frame[40:50, 100:120] = 255  # a 20 x 10 px instrument: box (100, 40, 119, 49)
    for seed in range(8):
        # Same draws as crop_around: a pretraining crop and a boxed image are the same kind.
        reflected, _ = crop_with_box(frame, (100, 40, 119, 49), 40, np.random.default_rng(seed))
        assert np.array_equal(reflected, crop_around(frame, (100, 40, 119, 49), 40,
                                                     np.random.default_rng(seed)))  # fmt: skip
        rng = np.random.default_rng(seed)
        crop, (x0, y0, x1, y1) = crop_with_box(
            frame, (100, 40, 119, 49), 40, rng, cv2.BORDER_CONSTANT
        )
        # The box holds every pixel the instrument reaches, and each of its edges touches it.
        rows, cols = np.nonzero(crop[..., 0] > 127)
        assert x0 <= cols.min() <= x0 + 1 and x1 - 1 <= cols.max() <= x1, seed
        assert y0 <= rows.min() <= y0 + 1 and y1 - 1 <= rows.max() <= y1, seed
        outside = crop[..., 0].copy()
        outside[max(y0 - 1, 0) : y1 + 2, max(x0 - 1, 0) : x1 + 2] = 0
        assert not outside.any(), seed  # nothing of it beyond the interpolation's 1-px rim


def test_boxed_images_are_a_voc_folder_of_held_out_scenes(tmp_path, crops):
    out = tmp_path / "boxes"
    argv = ["synth", "--preset", "tiny", "--out", str(out), "--object-boxes", "2"]
    assert main([*argv, "--crop-size", "64", "--no-progress"]) == 0
    labels = load_label_space()
    images = read_voc_dir(out / "Annotations", labels)
    assert [i.image_id for i in images] == sorted(f"{n.lower()}_{i:04d}" for n in labels.names
                                                   for i in range(2))  # fmt: skip
    for image in images:
        assert (image.width, image.height) == (64, 64) and len(image.boxes) == 1
        box = image.boxes[0]
        assert box.label.lower() == image.image_id.split("_")[0]
        assert 0 <= box.xmin < box.xmax <= 63 and 0 <= box.ymin < box.ymax <= 63
        # The square is 1.1-1.6 x the box's longer side: that side spans 40-93 % of the image.
        assert 64 / 1.6 - 2 <= max(box.xmax - box.xmin, box.ymax - box.ymin) + 1 <= 64 / 1.1 + 2
        assert cv2.imread(str(out / "JPEGImages" / f"{image.image_id}.jpg")).shape == (64, 64, 3)
    # Not the pretraining crops' scenes: no boxed image equals a crop of the same instrument.
    violin = cv2.imread(str(out / "JPEGImages" / "violin_0000.jpg"))
    for path in (crops / "train" / "Violin").glob("*.jpg"):
        assert not np.array_equal(cv2.resize(violin, (64, 64)), cv2.imread(str(path)))
    _rerun_reuses_and_other_settings_are_refused(build_box_images, out, 2, 18)
    assert main([*argv, "--object-crops", "4"]) != 0  # one or the other
    # The CLI rendered in 2 processes (its default): one process makes the same bytes.
    serial = tmp_path / "serial"
    build_box_images(serial, PRESETS["tiny"], 2, 64, progress=False, workers=1)
    files = sorted(p.relative_to(out) for p in out.rglob("*.*"))
    assert files == sorted(p.relative_to(serial) for p in serial.rglob("*.*"))
    assert all((out / f).read_bytes() == (serial / f).read_bytes() for f in files)


def test_labelled_images_are_one_frame_clips_resized_and_centre_cropped(tmp_path):
    labels = load_label_space()
    (tmp_path / "Violin").mkdir()
    wide = np.zeros((40, 80, 3), np.uint8)
    wide[:, 20:60] = (0, 0, 255)  # BGR red in the middle half
    cv2.imwrite(str(tmp_path / "Violin" / "a.png"), wide)
    item = LabelledImages(tmp_path, labels, 20)[0]
    assert item["x"].shape == (1, 3, 20, 20) and item["x"].dtype == torch.float32
    assert torch.all(item["x"][0, 0] == 255) and torch.all(item["x"][0, 2] == 0)  # only the red
    assert item["tags"].shape == (1, 9) and item["tags"][0, labels.index("Violin")] == 1
    assert item["tags"].sum() == 1 and item["video_id"] == "a"
    (tmp_path / "Kazoo").mkdir()
    with pytest.raises(InputError, match="Kazoo: folder name is not an instrument"):
        LabelledImages(tmp_path, labels, 20)
    (tmp_path / "Kazoo").rmdir()
    (tmp_path / "Violin" / "b.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(InputError, match="b.jpg: not a readable image"):
        LabelledImages(tmp_path, labels, 20)[1]


def test_object_run_starts_from_pretrained_conv1_5_and_keeps_them_frozen(
    crops, tiny_world, tiny_cache, tmp_path
):
    pre = train("pretrain", [
        f"--trainer.default_root_dir={tmp_path / 'pretrain'}", "--trainer.max_epochs=2", *TRAINER,
        *NET, f"--data.folder={crops}", "--data.size=64", "--data.batch_size=9",
    ])  # fmt: skip
    state = torch.load(pre, map_location="cpu", weights_only=True)["state_dict"]
    early = {k.removeprefix("net.features."): v for k, v in state.items()
             if k.startswith("net.features.")}  # fmt: skip
    assert VGGFCN(width=0.125, batch_norm=True).features.state_dict().keys() == early.keys()
    net = VGGFCN(width=0.125, batch_norm=True, pretrained_early=pre)
    for key, value in net.features.state_dict().items():
        assert torch.equal(value, early[key]), key
    obj = train("object", [
        f"--trainer.default_root_dir={tmp_path / 'object'}", "--trainer.max_epochs=1", *TRAINER,
        *NET, f"--model.net.init_args.pretrained_early={pre}", "--model.freeze_early_epochs=1",
        "--model.input_scale=0.015625", f"--data.dataset={tiny_world}",
        f"--data.cache={tiny_cache}",
        "--data.stream=rgb", f"--data.size={TINY_SIZE}", "--data.clip_frames=2",
    ])  # fmt: skip
    pre.unlink()  # the object checkpoint holds every weight: the pretraining file is not needed
    system = load_system(ObjectLocaliser, obj)
    for key, value in system.net.features.state_dict().items():
        if key in early:  # frozen: weights and batch-norm running statistics as pretrained
            assert torch.equal(value, early[key]), key
    head = system.net.head.state_dict()["conv8.weight"]
    assert not torch.equal(head, VGGFCN(width=0.125, batch_norm=True).head.conv8.weight)


def test_the_demo_object_recipe_keeps_the_average_of_its_weights(
    crops, tiny_world, tiny_cache, tmp_path
):
    """configs/demo/object.yaml: the checkpoint holds the moving average of the weights (what
    ``load_system`` serves), validated once at the end, Conv1-5 still as pretrained."""
    pre = train("pretrain", [
        f"--trainer.default_root_dir={tmp_path / 'pretrain'}", "--trainer.max_epochs=1", *TRAINER,
        *NET, f"--data.folder={crops}", "--data.size=64", "--data.batch_size=9",
    ])  # fmt: skip
    early = torch.load(pre, map_location="cpu", weights_only=True)["state_dict"]
    config = stage_configs("object")[0]
    assert stage_config("object")["trainer"]["callbacks"][0]["init_args"]["decay"] == 0.99
    obj = train("object", [
        "--config", str(config), f"--trainer.default_root_dir={tmp_path / 'object'}",
        "--trainer.max_epochs=2", "--trainer.check_val_every_n_epoch=2", *TRAINER, *NET,
        f"--model.net.init_args.pretrained_early={pre}", f"--data.dataset={tiny_world}",
        f"--data.cache={tiny_cache}", f"--data.size={TINY_SIZE}", "--data.clips_per_batch=3",
        "--data.clips_per_video=1",
    ])  # fmt: skip
    ckpt = torch.load(obj, map_location="cpu", weights_only=True)
    assert ckpt["epoch"] == 1  # the one validation, after the last epoch
    averaged, current = ckpt["state_dict"], ckpt["current_model_state"]
    head = "net.head.conv8.weight"
    assert not torch.equal(averaged[head], current[head])  # an average, not the last step
    system = load_system(ObjectLocaliser, obj)
    assert torch.equal(system.net.head.conv8.weight, averaged[head])
    for key, value in system.net.features.state_dict().items():
        # Frozen for the whole run: the average of a constant is that constant, up to the
        # rounding of Lightning's decay * average + (1 - decay) * weight (~1e-7 relative).
        if f"net.features.{key}" in early and value.is_floating_point():
            torch.testing.assert_close(value, early[f"net.features.{key}"], rtol=1e-5, atol=1e-7)


def test_the_chain_names_every_path_and_the_configs_none(monkeypatch):
    """Configs hold the recipe; the chain gives each stage its data, teachers, pretrained
    Conv1-5 and run folder: the world's folders in one place, a seed's in another (a study)."""
    from ipd.staging import chain

    calls = []
    monkeypatch.setattr(chain, "train", lambda stage, args: calls.append(args))
    world, runs = World(Path("/w")), Runs(Path("/s/seed_3"))
    stages = dict(chain.training_stages(world, runs, seed=3, overrides=["--x=1"]))
    for title in ("pretrain the object model's Conv1-5 on the crops", "train the object model",
                  "train the SOT0503 action model", "train the VT action model"):  # fmt: skip
        stages[title]()
    pretrain, obj, sot, vt = calls
    configs = str(chain.CONFIGS)
    assert pretrain == ["--config", f"{configs}/pretrain.yaml",
                        "--trainer.default_root_dir=/s/seed_3/runs/pretrain",
                        "--data.folder=/w/imagenet", "--seed_everything=3", "--x=1"]  # fmt: skip
    assert obj[:2] == ["--config", f"{configs}/object.yaml"] and obj[-2:] == ["--seed_everything=3",
                                                                          "--x=1"]  # fmt: skip
    assert set(obj[2:-2]) == {
        "--trainer.default_root_dir=/s/seed_3/runs/object", "--data.dataset=/w/data",
        "--data.cache=/w/cache",
        "--model.net.init_args.pretrained_early=/s/seed_3/runs/pretrain/checkpoints/best.ckpt",
    }  # fmt: skip
    assert sot[:4] == ["--config", f"{configs}/action.yaml", "--config",
                       f"{configs}/action_SOT0503.yaml"]  # fmt: skip
    assert {"--data.sound_teacher=/s/seed_3/teachers/sound",
            "--data.object_teacher=/s/seed_3/teachers/object"} <= set(sot)  # fmt: skip
    assert not any("teacher" in arg for arg in vt)
    for args in calls:  # nothing is left to a path written in a config
        assert not any("=demo/" in arg for arg in args)
