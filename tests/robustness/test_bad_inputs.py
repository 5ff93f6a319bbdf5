"""Every odd or bad input through ``ipd extract``, ``ipd detect`` and ``ipd tag``: it either
works (and what "works" means is asserted) or fails with one line naming the file and the
reason, exit status 2 and no traceback."""

from __future__ import annotations

import csv
import json

import cv2
import numpy as np
import pytest

from ipd.features.params import ExtractParams
from ipd.features.reader import open_features
from ipd.features.video import resize
from tests.conftest import TINY_SIZE
from tests.robustness.media import first_frame

PARAMS = ExtractParams(size=TINY_SIZE)

# case -> the one line every command prints for it (the file's name comes first)
REFUSED = {
    "missing": "file not found",
    "zero_bytes": "empty file (0 bytes)",
    "text": "not a readable video (invalid data found when processing input)",
    "truncated": "truncated or damaged video (its frames cannot be indexed)",
    "audio_only": "no video track (not a video file)",
    "one_frame": "video has a single frame (need at least 2 for motion)",
    "fifo": "not a regular file (a pipe, socket or device), not a video file",
    "folder": "a folder, not a video file",
}
# ipd extract takes a folder as a dataset (its index.csv)
EXTRACT_REFUSED = {
    **REFUSED,
    "folder": "a dataset folder needs an index.csv (annotations/FORMATS.md)",
}
# case -> (analysis frames, frame size at 128 px, has audio): these work
WORKS = {
    "good": (4, (72, 128), True),
    "no_audio": (4, (72, 128), False),
    "silent_audio": (4, (72, 128), True),
    "shorter_than_a_flow_stack": (1, (72, 128), False),  # 0.3 s: one frame, edges repeated
    "variable_frame_rate": (4, (96, 128), False),
    "portrait": (4, (128, 72), False),
    "rotated_phone": (4, (128, 72), False),  # stored 160 x 90, shown upright 90 x 160
    "uhd_4k": (2, (72, 128), False),
    "grayscale": (4, (72, 128), False),
    "mpeg4_in_avi": (4, (72, 128), True),  # 161 x 91: odd sizes
    "html_name": (4, (72, 128), True),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_extract_refuses_with_one_line(media, ipd, tmp_path, case):
    line = ipd("extract", media[case], "--cache", tmp_path).one_line_error()
    assert line == f"error: {media[case]}: {EXTRACT_REFUSED[case]}"
    assert not list(tmp_path.rglob("*.zarr"))  # nothing half-written is left as a feature file


@pytest.mark.parametrize("case", sorted(WORKS))
def test_extract_works(media, ipd, tmp_path, case):
    frames, size, audio = WORKS[case]
    ran = ipd("extract", media[case], "--cache", tmp_path, "--size", TINY_SIZE)
    assert ran.code == 0, ran.err
    streams = ("rgb", "flow", "audio") if audio else ("rgb", "flow")
    video_id = next(p.stem for p in tmp_path.rglob("*.zarr"))
    with open_features(tmp_path, video_id, streams, PARAMS) as feats:
        assert feats.num_frames == frames and feats.frame_size == size
        rgb, flow = feats.rgb(), feats.flow()
        assert rgb.shape == (frames, *size, 3) and flow.shape == (frames, 10, *size)
        if audio:
            assert feats.logmel_all(512).shape[1] == 128
    if not audio:
        assert "no audio track: audio skipped, video streams extracted" in ran.err
    if case == "grayscale":
        assert np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2])


def test_a_rotated_phone_video_is_analysed_upright(media, tmp_path):
    from ipd.features.extract import extract_video

    extract_video(media["rotated_phone"], "phone", tmp_path, PARAMS, ("rgb",))
    with open_features(tmp_path, "phone", ("rgb",), PARAMS) as feats:
        shown = feats.rgb()[0]
    stored = first_frame(media["rotated_phone"])  # 90 x 160: lying on its side
    assert stored.shape == (90, 160, 3)
    # display matrix rotation 90 = a quarter turn counter-clockwise, as ffmpeg shows it
    assert np.array_equal(shown, resize(np.rot90(stored, 1), (128, 72)))
    assert not np.array_equal(shown, resize(np.rot90(stored, -1), (128, 72)))
    assert cv2.absdiff(shown, resize(np.rot90(stored, 1), (128, 72))).max() == 0


def test_extract_gives_two_files_with_one_name_two_ids(media, ipd, tmp_path):
    ran = ipd("extract", media["same_stem_mp4"], media["same_stem_mkv"], "--cache", tmp_path,
              "--size", TINY_SIZE, "--streams", "rgb")  # fmt: skip
    assert ran.code == 0, ran.err
    ids = sorted(p.stem for p in tmp_path.rglob("*.zarr"))
    assert ids[0] == "clip" and ids[1].startswith("clip-") and len(ids[1]) == len("clip-") + 8
    with open_features(tmp_path, ids[0], ("rgb",), PARAMS) as a:
        with open_features(tmp_path, ids[1], ("rgb",), PARAMS) as b:
            assert {a.frame_size, b.frame_size} == {(72, 128)}
            assert not np.array_equal(a.rgb(), b.rgb())  # two different videos, both kept


# --- detect -----------------------------------------------------------------------------------


def _result_folders(out):
    return [p for p in out.iterdir() if p.name != "cache"]


def _detect(ipd, tiny_ckpts, out, *videos, extra=()):
    models = ["--action", tiny_ckpts["action"], "--object", tiny_ckpts["object"],
              "--sound", tiny_ckpts["sound"]]  # fmt: skip
    return ipd("detect", *videos, "--out", out, *models, "--no-video", *extra)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_detect_refuses_with_one_line(media, ipd, tiny_ckpts, tmp_path, case):
    line = _detect(ipd, tiny_ckpts, tmp_path / "out", media[case]).one_line_error()
    assert line == f"error: {media[case]}: {REFUSED[case]}"


@pytest.mark.parametrize("case", sorted(WORKS))
def test_detect_works(media, ipd, tiny_ckpts, tmp_path, case):
    frames, _, audio = WORKS[case]
    ran = _detect(ipd, tiny_ckpts, tmp_path / "out", media[case])
    assert ran.code == 0, ran.err
    (folder,) = _result_folders(tmp_path / "out")
    with (folder / "scores.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == frames * 9
    doc = json.loads((folder / "scores.json").read_text())
    assert doc["num_frames"] == frames and doc["source"]["has_audio"] is audio
    assert doc["fusion"] == ("AxOxS" if audio else "AxO")
    if case == "rotated_phone":  # the video as shown: 90 x 160, the 256-px frame portrait
        assert (doc["source"]["width"], doc["source"]["height"]) == (90, 160)
        assert doc["frame_256"] == {"width": 144, "height": 256}


def test_detect_names_outputs_safely_after_an_html_file_name(media, ipd, tiny_ckpts, tmp_path):
    assert _detect(ipd, tiny_ckpts, tmp_path / "out", media["html_name"]).code == 0
    (folder,) = _result_folders(tmp_path / "out")
    assert folder.name == "take__i_one_i_____two_"  # the id: a file name, nothing to escape
    page = (folder / "index.html").read_text()
    assert "<title>take__i_one_i_____two_: VTxOxS</title>" in page and "<i>one" not in page


def test_detect_batch_skips_bad_inputs_and_lists_each_once(media, ipd, tiny_ckpts, tmp_path):
    bad = [media["zero_bytes"], media["text"], media["fifo"]]
    ran = _detect(ipd, tiny_ckpts, tmp_path / "out", bad[0], media["good"], *bad[1:],
                  extra=["--no-report"])  # fmt: skip
    assert ran.code == 0
    assert "good: 4 frames (2.0 s), AxOxS;" in ran.out
    for path in bad:
        assert sum(str(path) in line for line in ran.err_lines) == 2  # as it happens, in the list
        assert ran.err.count(f"{path}: {path}") == 0
    assert "skipped 3 of 4 input(s):" in ran.err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good"]  # no cache written
    nothing = _detect(ipd, tiny_ckpts, tmp_path / "out2", *bad)
    assert nothing.code == 1 and "skipped 3 of 3 input(s):" in nothing.err


# --- tag --------------------------------------------------------------------------------------

TAG_REFUSED = {
    "missing": "file not found",
    "zero_bytes": "empty file (0 bytes)",
    "text": "not a readable media file (invalid data found when processing input)",
    "no_audio": "no audio track",
    "fifo": "not a regular file (a pipe, socket or device), not a media file",
    "folder": "a folder, not a media file",
}
TAG_WORKS = ("good", "silent_audio", "audio_only", "mpeg4_in_avi", "html_name", "truncated")


@pytest.mark.parametrize("case", sorted(TAG_REFUSED))
def test_tag_refuses_with_one_line(media, ipd, tiny_tagger, tmp_path, case):
    line = ipd("tag", media[case], "--model", tiny_tagger, "--out", tmp_path).one_line_error()
    assert line == f"error: {media[case]}: {TAG_REFUSED[case]}"


@pytest.mark.parametrize("case", TAG_WORKS)
def test_tag_works(media, ipd, tiny_tagger, tmp_path, case):
    ran = ipd("tag", media[case], "--model", tiny_tagger, "--out", tmp_path, "--no-plot")
    assert ran.code == 0, ran.err
    (doc,) = tmp_path.glob("*.tags.json")
    tags = json.loads(doc.read_text())
    assert tags["tags"] == ["a", "b", "c"] and len(tags["times_s"]) == len(tags["frame"]) >= 3


def test_tag_batch_goes_on_past_a_file_without_audio(media, ipd, tiny_tagger, tmp_path):
    inputs = [media["no_audio"], media["good"], media["zero_bytes"], media["silent_audio"]]
    ran = ipd("tag", *inputs, "--model", tiny_tagger, "--out", tmp_path, "--no-plot")
    assert ran.code == 0
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["good.tags.json",
                                                                "silent.tags.json"]  # fmt: skip
    assert "skipped 2 of 4 input(s):" in ran.err
    assert f"  {media['no_audio']}: no audio track" in ran.err_lines
    assert f"  {media['zero_bytes']}: empty file (0 bytes)" in ran.err_lines


def test_tag_keeps_both_files_with_one_name(media, ipd, tiny_tagger, tmp_path):
    ran = ipd("tag", media["same_stem_mp4"], media["same_stem_mkv"], "--model", tiny_tagger,
              "--out", tmp_path, "--no-plot")  # fmt: skip
    assert ran.code == 0, ran.err
    names = sorted(p.name for p in tmp_path.glob("*.tags.csv"))
    assert len(names) == 2 and names[0] == "clip-" + names[0][5:13] + ".tags.csv"
    assert "clip.tags.csv" in names
