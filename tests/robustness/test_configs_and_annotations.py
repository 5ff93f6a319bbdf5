"""Configs and annotation files from users: a wrong type, an unknown key or broken YAML stops
``ipd train`` with one line naming the configs; a broken or inconsistent key-point file stops
``ipd evaluate`` with one line before any model runs."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import REPO

ACTION, VT = (REPO / "configs" / "demo" / f"{name}.yaml" for name in ("action", "action_VT"))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "model:\n  v: notanumber\n",
            'Parser key "model.v": Expected a float. Got value: notanumber',
        ),
        ("model:\n  bogus_key: 1\n", "Group 'model' does not accept option 'bogus_key'"),
        ("trainer:\n  max_epochs: [1\n", "Problems parsing config: while parsing a flow sequence"),
    ],
)
def test_a_bad_config_is_one_line(ipd, tmp_path, text, problem):
    config = tmp_path / "mine.yaml"
    config.write_text(text)
    root = tmp_path / "run"
    line = ipd("train", "action", "--config", ACTION, "--config", VT, "--config", config,
               f"--trainer.default_root_dir={root}").one_line_error()  # fmt: skip
    assert line.startswith(f"error: {ACTION}, {VT}, {config}: {problem}"), line
    assert not root.exists()  # nothing was started


def test_every_command_and_stage_answers_help(capfd):
    from ipd.cli.main import build_parser, main

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    commands = [[name] for name in sub.choices]
    stages = [["train", stage] for stage in ("sound", "pretrain", "object", "action")]
    assert len(commands) >= 10
    for argv in [[], *commands, *stages]:
        try:
            code = main([*argv, "--help"])
        except SystemExit as done:  # argparse and LightningCLI exit after printing the help
            code = done.code
        assert code in (0, None), argv
        assert capfd.readouterr().out.startswith(f"usage: {' '.join(['ipd', *argv])}"), argv


@pytest.fixture
def annotated(tiny_world, tmp_path):
    """``(dataset, keypoints)``: the tiny world's test index and key points in a new folder."""
    dataset = tmp_path / "data"
    (dataset / "annotations").mkdir(parents=True)
    shutil.copy(tiny_world / "index.csv", dataset / "index.csv")
    source = tiny_world / "annotations" / "keypoints_test.json"
    return dataset, json.loads(source.read_text())


def _evaluate(ipd, tiny_ckpts, dataset, doc, tmp_path):
    path = dataset / "annotations" / "keypoints_test.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    out = tmp_path / "eval"
    ran = ipd("evaluate", "--dataset", dataset, "--action", tiny_ckpts["action"], "--out", out)
    assert not (out / "predictions").exists()  # refused before any model ran
    return path, ran.one_line_error()


def test_evaluate_refuses_broken_json(ipd, tiny_ckpts, annotated, tmp_path):
    dataset, doc = annotated
    path, line = _evaluate(ipd, tiny_ckpts, dataset, json.dumps(doc)[:500], tmp_path)
    assert line.startswith(f"error: {path}: not valid JSON (Unterminated string")


def test_evaluate_refuses_annotations_of_unknown_videos(ipd, tiny_ckpts, annotated, tmp_path):
    dataset, doc = annotated
    doc["images"][0]["video_id"] = "ghost"
    doc["videos"] = [v for v in doc["videos"] if v["id"] != "accordion_test_000"]
    doc["videos"].append({"id": "ghost", "category_id": 1, "width": 160, "height": 90})
    path, line = _evaluate(ipd, tiny_ckpts, dataset, doc, tmp_path)
    assert line == (
        f"error: {path}: annotates 1 video(s) not in the test split of {dataset / 'index.csv'}: "
        "ghost"
    )


def test_evaluate_refuses_unknown_instruments(ipd, tiny_ckpts, annotated, tmp_path):
    dataset, doc = annotated
    doc["categories"][0]["name"] = "Banjo"
    path, line = _evaluate(ipd, tiny_ckpts, dataset, doc, tmp_path)
    assert line.startswith(f"error: {path}: category 1 'Banjo' does not match the label space")


def test_evaluate_refuses_key_points_outside_the_frame(ipd, tiny_ckpts, annotated, tmp_path):
    dataset, doc = annotated
    ann = doc["annotations"][0]
    ann["keypoints"] = [300.0, 10.0, 2]
    path, line = _evaluate(ipd, tiny_ckpts, dataset, doc, tmp_path)
    assert line == (
        f"error: {path}: image {ann['image_id']} has a key point (300, 10) outside its "
        "256 x 144 frame"
    )
