"""Files from strangers: checkpoints and weights load weights-only (a malicious pickle runs
nothing and gets one line), a checkpoint of another model or a truncated one is named as such,
dataset indexes cannot make the tools write outside their folders, and HTML pages escape every
user-supplied string."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from ipd.data.index import read_index
from ipd.errors import InputError
from ipd.evaluation.predictions import Prediction
from ipd.models.original import load_original_action_object
from ipd.models.weights_io import read_state_dict
from ipd.report.html import ReportVideo, write_video_page

REFUSED = "refused: the file asks to build Python objects"


class Payload:
    """An object whose unpickling would write a file: ``weights_only`` must refuse it."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def evil(tmp_path):
    """``(checkpoint, marker)``: a Lightning-shaped checkpoint whose loading would create
    ``marker`` if anything in it ran."""
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    payload = {"state_dict": {"w": torch.zeros(1)}, "hyper_parameters": {"x": Payload(str(marker))}}
    torch.save(payload, path)
    return path, marker


def test_a_malicious_checkpoint_runs_nothing_in_any_command(evil, media, ipd, tmp_path):
    path, marker = evil
    video, out = media["good"], tmp_path / "out"
    commands = [
        ["detect", video, "--out", out, "--action", path],
        ["detect", video, "--out", out, "--original-action", path],
        ["teach", "object", "--checkpoint", path, "--dataset", tmp_path, "--cache", tmp_path,
         "--out", out],
        ["tag", video, "--model", path, "--out", out],
    ]  # fmt: skip
    for argv in commands:
        line = ipd(*argv).one_line_error()
        assert line.startswith(f"error: {path}: {REFUSED} (io.open)"), line
        assert "nothing in it was run" in line
    assert not marker.exists()


def test_weights_files_load_weights_only(tmp_path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.torch"
    torch.save({"conv1.weight": torch.zeros(1), "x": Payload(str(marker))}, path)
    with pytest.raises(InputError, match=rf"evil\.torch: {REFUSED}"):
        load_original_action_object(path, in_channels=10)
    assert not marker.exists()
    with pytest.raises(InputError, match=r"nothere\.torch: file not found"):
        read_state_dict(tmp_path / "nothere.torch")
    text = tmp_path / "notes.txt"
    text.write_text("not a model\n")
    with pytest.raises(InputError, match=r"notes\.txt: not a PyTorch weights file \(not a pickle"):
        read_state_dict(text)
    torch.save([torch.zeros(1)], tmp_path / "list.torch")
    with pytest.raises(InputError, match=r"list\.torch: not a state dict \(a list\)"):
        read_state_dict(tmp_path / "list.torch")
    torch.save({"w": torch.zeros(1), "lr": 0.1}, tmp_path / "mixed.torch")
    with pytest.raises(InputError, match=r"mixed\.torch: not a state dict \(entry 'lr' is a float"):
        read_state_dict(tmp_path / "mixed.torch")


def test_a_checkpoint_of_another_model_is_named(tiny_ckpts, media, ipd, tmp_path):
    out = ["--out", tmp_path / "out"]
    line = ipd("detect", media["good"], *out, "--action", tiny_ckpts["sound"]).one_line_error()
    assert line == (
        f"error: {tiny_ckpts['sound']}: a checkpoint of the sound model (SoundTagger), "
        f"not of the action model (ActionLocaliser)"
    )
    argv = ["--action", tiny_ckpts["action"], "--object", tiny_ckpts["action"]]
    line = ipd("detect", media["good"], *out, *argv).one_line_error()
    assert line.endswith("a checkpoint of the action model (ActionLocaliser), not of the object "
                         "model (ObjectLocaliser)")  # fmt: skip
    weights = tmp_path / "weights.torch"  # a plain state dict, e.g. the authors' release
    torch.save({"conv1.weight": torch.zeros(1)}, weights)
    line = ipd("detect", media["good"], *out, "--action", weights).one_line_error()
    assert "not a checkpoint of `ipd train`" in line and "--original-*" in line


def test_a_truncated_checkpoint_is_never_read_as_valid(tiny_ckpts, media, ipd, tmp_path):
    data = tiny_ckpts["action"].read_bytes()
    for name, cut in (("half.ckpt", len(data) // 2), ("tail.ckpt", len(data) - 100)):
        path = tmp_path / name
        path.write_bytes(data[:cut])
        line = ipd("detect", media["good"], "--out", tmp_path, "--action", path).one_line_error()
        assert line == (
            f"error: {path}: not a readable PyTorch checkpoint (truncated, or another kind of file)"
        )


def _index(tmp_path, video_id: str, path: str):
    (tmp_path / "index.csv").write_text(f"video_id,split,tags,path\n{video_id},test,Cello,{path}\n")
    return tmp_path


@pytest.mark.parametrize(
    ("video_id", "path", "problem"),
    [
        ("../escape", "videos/a.mp4", "video_id '../escape' cannot be a file name"),
        (".hidden", "videos/a.mp4", "video_id '.hidden' cannot be a file name"),
        ("a/b", "videos/a.mp4", "video_id 'a/b' cannot be a file name"),
        ("a", "../../etc/passwd", "path '../../etc/passwd' leaves the dataset folder"),
        ("a", "videos/../../x.mp4", "path 'videos/../../x.mp4' leaves the dataset folder"),
    ],
)
def test_an_index_cannot_point_outside_its_folders(tmp_path, video_id, path, problem):
    with pytest.raises(InputError) as err:
        read_index(_index(tmp_path, video_id, path))
    assert str(err.value) == f"{tmp_path / 'index.csv'}:2: {problem}" + (
        " (letters, digits, _ . + - only, not starting with a dot)"
        if "file name" in problem
        else ""
    )


def test_an_index_may_name_absolute_paths_and_youtube_ids(tmp_path):
    (entry,) = read_index(_index(tmp_path, "-x_Y1.a+b", "/data/videos/clip.mp4"))
    assert entry.video_id == "-x_Y1.a+b" and str(entry.path) == "/data/videos/clip.mp4"


def test_pages_escape_every_user_supplied_string(tmp_path):
    hostile = '<script>alert("x")</script>&'
    times = np.arange(2) * 0.512
    maps = np.zeros((2, 1, 3, 3), np.float32)
    pred = Prediction(hostile, times, (hostile,), "x", maps=maps)
    video = ReportVideo(hostile, hostile, np.zeros((2, 24, 32, 3), np.uint8), times, {"A": pred})
    page = write_video_page(tmp_path / "p", video, title=hostile, labels=[hostile], gif=False)
    html = page.read_text()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in html
    # media files are named from slugs: nothing lands outside the page's folder
    assert all(p.resolve().is_relative_to(page.parent) for p in tmp_path.rglob("*") if p.is_file())
    assert not re.search(r"src=\"[^\"]*(\.\./|<)", html)
