"""``ipd tag-eval``: column mapping, clip/frame-level results on hand-checked numbers, CLI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from ipd.cli import tag_eval
from ipd.errors import InputError
from ipd.labels import load_label_space
from ipd.models.clip2frame import Clip2Frame
from ipd.tagging.evaluate import (
    ColumnMap,
    align,
    clip_level_result,
    frame_level_result,
    pseudo_clip_frames,
    read_frame_labels,
)
from ipd.tagging.tagger import Clip2FrameTagger


def write_space(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_column_map_by_name_then_mtt_tags(tmp_path):
    space = load_label_space(
        write_space(
            tmp_path / "l.yaml",
            """instruments:
  - {name: piano}
  - {name: Guitar, mtt_tags: [guitar, acoustic guitar]}
  - {name: Violin, mtt_tags: [violin]}
""",
        )
    )
    columns = ColumnMap.build(space, ["guitar", "piano", "acoustic guitar"])
    assert columns.names == ("piano", "Guitar")
    assert columns.indices == ((1,), (0,))  # "Guitar" is itself a model output (case-insensitive)
    assert columns.missing == ("Violin",)
    np.testing.assert_allclose(columns.apply(np.array([[0.1, 0.2, 0.7]])), [[0.2, 0.1]])
    space2 = load_label_space(
        write_space(
            tmp_path / "m.yaml",
            """instruments:
  - {name: Acoustic, mtt_tags: [guitar, acoustic guitar]}
""",
        )
    )
    both = ColumnMap.build(space2, ["guitar", "piano", "acoustic guitar"])
    np.testing.assert_allclose(both.apply(np.array([[0.1, 0.2, 0.7]])), [[0.7]])  # max of the two
    assert ColumnMap.build(space, ["guitar", "piano"]).only({"piano"}).names == ("piano",)


def test_clip_level_hand_numbers():
    targets = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.5, 0.3]])
    out = clip_level_result(["a", "b"], targets, scores)
    # tag a: positives 0.9, 0.4 vs negatives 0.2, 0.5 -> 3 of 4 pairs; AP (1 + 2/3) / 2
    assert out["per_class"]["a"] == {"auc": 0.75, "ap": pytest.approx(5 / 6), "positives": 2}
    assert out["per_class"]["b"]["auc"] == 1.0
    assert out["auc_class"] == 0.875 and out["map_class"] == pytest.approx(11 / 12)
    assert out["auc_clip"] == 1.0 and out["map_clip"] == 1.0  # clips 3, 4 have no AUC
    assert out["clips"] == 4


def test_frame_level_thresholds_from_val_pseudo_clips():
    # tag a, val pseudo-clips of 2 frames (mean): 0.8 (+), 0.25 (-), 0.5 (+) -> smallest F1-best
    # c = 0.25; tag b never positive: every F1 is 0 -> c = 0 (first candidate)
    val_a = [[0.9], [0.7], [0.25], [0.25], [0.5], [0.5]]
    val = [
        (
            np.hstack([val_a, np.zeros((6, 1))]),
            np.array([[1, 0], [0, 0], [0, 0], [0, 0], [0, 0], [1, 0]]),
        )
    ]
    test = [
        (np.array([[0.3, 0.0], [0.2, 0.0]]), np.array([[1, 0], [0, 0]])),
        (np.array([[0.9, 0.0], [0.26, 0.0]]), np.array([[0, 0], [0, 0]])),
    ]
    out = frame_level_result(["a", "b"], val, test, pseudo_clip_length=2)
    assert out["per_class"]["a"] == {
        "threshold": 0.25,
        "val_pseudo_clip_f1": 1.0,
        "test_positives": 1,
    }
    assert out["per_class"]["b"]["threshold"] == 0.0
    assert out["val_pseudo_clips"] == 3 and out["test_frames"] == 4
    # a: predicted 1, 0, 1, 1 against 1, 0, 0, 0 -> P 1/3, R 1, F1 1/2; b: nothing (0 > 0 false)
    model = out["model"]
    assert model["precision_micro"] == pytest.approx(1 / 3) and model["f1_micro"] == 0.5
    assert model["precision_macro"] == pytest.approx(1 / 6) and model["f1_macro"] == 0.25
    # all positive: a P 1/4 R 1 F1 0.4; b P 0 R 0 -> micro P 1/8, F1 2/9; macro F1 0.2
    base = out["all_positive"]
    assert base["precision_micro"] == 0.125 and base["f1_micro"] == pytest.approx(2 / 9)
    assert base["f1_macro"] == pytest.approx(0.2)
    with pytest.raises(InputError, match="validation and test"):
        frame_level_result(["a"], [], test, 2)


def test_align_and_pseudo_clip_length():
    times = np.arange(5) * 0.512
    np.testing.assert_array_equal(
        align(times, 0.512, np.array([0.0, 0.3, 0.512, 1.1, 2.56, 3.0])), [0, 1, 1, 2, -1, -1]
    )
    assert pseudo_clip_frames(np.arange(10) * 0.512) == 20  # 320 mel frames of 0.032 s
    assert pseudo_clip_frames(np.arange(10) * 0.032) == 320


def test_read_frame_labels_errors(tmp_path):
    path = tmp_path / "frame_labels.csv"
    path.write_text("video_id,frame_index,timestamp_s,Piano\nv,1,0.512,1\nv,0,0.0,0\n")
    times, names, y = read_frame_labels(path)["v"]
    assert names == ["Piano"] and times.tolist() == [0.0, 0.512] and y.tolist() == [[0], [1]]
    path.write_text("video_id,frame_index,timestamp_s,Piano\nv,0,0.0,2\n")
    with pytest.raises(InputError, match=r"frame_labels.csv, row 2"):
        read_frame_labels(path)


def tiny_tagger(tags: list[str]) -> tuple[Clip2FrameTagger, dict]:
    torch.manual_seed(0)
    config = dict(
        num_classes=len(tags),
        num_scales=1,
        early_layers=1,
        early_filters=4,
        late_channels=(8,),
        gaussian_length=16,
    )
    model = Clip2Frame(**config)
    return Clip2FrameTagger(model, tags, (512,), np.zeros((1, 128)), np.ones((1, 128))), config


def test_cli_end_to_end(tmp_path, capsys):
    rng = np.random.default_rng(0)
    ds = tmp_path / "ds"
    (ds / "audio").mkdir(parents=True)
    (ds / "annotations").mkdir()
    rows, frames = (
        ["video_id,split,tags,path,duration_s"],
        ["video_id,frame_index,timestamp_s,piano,drums"],
    )
    for i, (split, tags) in enumerate(
        [
            ("test", "piano"),
            ("test", "drums"),
            ("test", "piano;drums"),
            ("val", "piano"),
            ("val", "drums"),
        ]
    ):
        soundfile.write(ds / "audio" / f"c{i}.wav", 0.1 * rng.standard_normal(32000), 16000)
        rows.append(f"c{i},{split},{tags},audio/c{i}.wav,2.0")
        for k in range(4):  # 4 labelled frames at k * 0.512 s; piano on in frames 0-1
            frames.append(f"c{i},{k},{k * 0.512},{int(k < 2)},{int(i % 2)}")
    (ds / "index.csv").write_text("\n".join(rows) + "\n")
    (ds / "annotations" / "frame_labels.csv").write_text("\n".join(frames) + "\n")
    write_space(ds / "labels.yaml", "instruments:\n  - {name: piano}\n  - {name: drums}\n")
    (ds / "tag_counts.csv").write_text(
        "tag,train_clips,val_clips,test_clips\npiano,30,1,2\ndrums,5,1,2\n"
    )
    tagger, config = tiny_tagger(["drums", "piano", "bass"])
    tagger.save(tmp_path / "tagger.pt", config)
    parser = argparse.ArgumentParser()
    tag_eval.add_parser(parser.add_subparsers())
    args = parser.parse_args(
        [
            "tag-eval",
            "--model",
            str(tmp_path / "tagger.pt"),
            "--dataset",
            str(ds),
            "--frame-labels",
            str(ds / "labels.yaml"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert args.func(args) == 0
    result = json.loads((tmp_path / "out" / "tag_eval.json").read_text())
    clip = result["clip_level"]
    assert clip["clips"] == 3 and list(clip["per_class"]) == ["piano", "drums"]
    assert clip["per_class"]["piano"]["positives"] == 2
    frame = result["frame_level"]
    assert (frame["val_tracks"], frame["test_tracks"], frame["test_frames"]) == (2, 3, 12)
    # all positive on test: piano 6 of 12 frames (2 per track), drums 4 (track c1 only)
    assert frame["all_positive"]["precision_micro"] == pytest.approx((6 + 4) / 24)
    assert set(result["sigmas"]) == {"piano", "drums"}
    assert result["sigmas"]["piano"] == pytest.approx(256 / 4)  # untrained: the initial sigma
    assert (tmp_path / "out" / "sigmas.png").stat().st_size > 0
    assert "| model |" in (tmp_path / "out" / "tag_eval.md").read_text()
