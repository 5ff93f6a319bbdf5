"""Batches, bad inputs and the ``ipd extract`` command (a killed run: tests/robustness)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import soundfile as sf
from test_features_media import index_frames, tone, write_video

from ipd.cli import extract as cli
from ipd.errors import InputError
from ipd.features import cache
from ipd.features.batch import extract_many
from ipd.features.extract import extract_video
from ipd.features.params import STREAMS, ExtractParams

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    """A good video, a silent one, and the bad inputs of the issue."""
    root = tmp_path_factory.mktemp("inputs")
    text = root / "notes.mp4"
    text.write_text("this is not a video\n")
    (root / "empty.mp4").write_bytes(b"")
    sf.write(root / "song.wav", tone(1.0), 44_100)
    return {
        "good": write_video(root / "good.mkv", index_frames(20), 10, audio=tone(2.0)),
        "silent": write_video(root / "silent.mp4", index_frames(20), 10),
        "missing": root / "missing.mp4",
        "text": text,
        "empty": root / "empty.mp4",
        "single": write_video(root / "single.mp4", index_frames(1), 10),
        "sound": root / "song.wav",
    }


BAD = {  # what the batch report says of each bad input (tests/robustness: each alone)
    "missing": "missing.mp4: file not found",
    "text": "notes.mp4: not a readable video",
    "empty": "empty.mp4: empty file (0 bytes)",
    "single": "single.mp4: video has a single frame",
    "sound": "song.wav: no video track (not a video file)",
}


def test_no_audio_track_skips_audio_with_a_note(inputs, tmp_path):
    result = extract_video(inputs["silent"], "silent", tmp_path)
    assert sorted(result["written"]) == ["flow", "rgb"]
    assert result["notes"] == [
        f"{inputs['silent']}: no audio track: audio skipped, video streams extracted"
    ]
    with pytest.raises(InputError, match="no audio track"):  # audio was all that was asked for
        extract_video(inputs["silent"], "silent", tmp_path / "a", streams=("audio",))


def test_a_batch_skips_bad_inputs_and_finishes_the_rest(inputs, tmp_path):
    items = [(name, path) for name, path in inputs.items()]
    report = extract_many(items, tmp_path, workers=2, progress=False)
    assert sorted(report.done) == ["good", "silent"]
    assert sorted(vid for vid, _ in report.failed) == sorted(BAD)
    for vid, message in report.failed:
        assert BAD[vid] in message and "\n" not in message
    assert len(report.notes) == 1 and "silent.mp4: no audio track" in report.notes[0]
    assert cache.list_cached(tmp_path, "flow", ExtractParams()) == ["good", "silent"]
    assert cache.list_cached(tmp_path, "audio", ExtractParams()) == ["good"]


def _run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ipd")
    cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(["extract", *argv])
    return args.func(args)


def test_cli_on_a_dataset_folder_with_a_split(inputs, tmp_path, capsys):
    dataset = tmp_path / "data"
    dataset.mkdir()
    rows = [
        f"good,train,violin,{inputs['good']},2.0",
        f"text,train,,{inputs['text']},2.0",
        f"silent,test,piano,{inputs['silent']},2.0",
    ]
    (dataset / "index.csv").write_text("video_id,split,tags,path,duration_s\n" + "\n".join(rows))
    code = _run_cli(
        [
            str(dataset),
            "--split",
            "train",
            "--cache",
            str(tmp_path / "c"),
            "--no-progress",
            "--streams",
            "rgb",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0  # a batch with at least one success exits 0
    assert "extracted 1, already cached 0, failed 1 of 2 videos" in out
    assert "skipped 1 of 2 video(s):" in err and "notes.mp4: not a readable video" in err
    assert cache.list_cached(tmp_path / "c", "rgb", ExtractParams()) == ["good"]
    assert cache.list_cached(tmp_path / "c", "flow", ExtractParams()) == []
    code = _run_cli(
        [
            str(inputs["text"]),
            str(inputs["missing"]),
            "--cache",
            str(tmp_path / "d"),
            "--no-progress",
        ]
    )
    assert code == 1  # nothing succeeded


def test_cli_single_input_raises_and_options_reach_the_params(inputs, tmp_path, capsys):
    with pytest.raises(InputError, match="single.mp4: video has a single frame"):
        _run_cli([str(inputs["single"]), "--cache", str(tmp_path)])
    args = ["--cache", str(tmp_path), "--size", "64", "--flow", "dis", "--windows", "512,1024"]
    assert _run_cli([str(inputs["good"]), *args]) == 0
    assert "good: extracted rgb, flow, audio" in capsys.readouterr().out
    params = ExtractParams(windows=(512, 1024), size=64, flow="dis")
    for stream in STREAMS:
        assert cache.list_cached(tmp_path, stream, params) == ["good"]
    with pytest.raises(InputError, match="--streams"):
        _run_cli([str(inputs["good"]), "--cache", str(tmp_path), "--streams", "audio,depth"])
