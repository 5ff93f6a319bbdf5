"""AudioSet tool: both CSV flavours, label mapping, malformed rows, and clip cutting."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest

from data_tools import audioset
from data_tools.common import probe_duration
from ipd.errors import InputError

REF = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "reference-data" / "instrument_playing"
)

# The official format: '#' header lines, spaces after commas, quoted MID lists.
OFFICIAL = """\
# Segments csv created Sun Mar  5 10:54:31 2017
# num_ytids=3, num_segs=3, num_unique_labels=4, num_positive_labels=5
# YTID, start_seconds, end_seconds, positive_labels
--PJHxphWEs, 30.000, 40.000, "/m/09x0r,/t/dd00088"
--ZhevVpy1s, 50.000, 60.000, "/m/0342h,/m/07y_7,/m/04rlf"
--aE2O5G5WE, 0.000, 10.000, "/m/026t6"
"""
# The authors' format: label names as plain extra fields, CRLF line ends.
AUTHORS = (
    "-JUBdOr8Hes,30.000,40.000,Accordion\r\nabc,5.5,15.5,Singing,Guitar\r\nxyz,0,10,Singing\r\n"
)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_both_formats_map_to_instruments(tmp_path):
    (tmp_path / "official.csv").write_text(OFFICIAL)
    (tmp_path / "authors.csv").write_bytes(AUTHORS.encode())
    summary = audioset.prepare(
        {"train": [tmp_path / "official.csv"], "val": [tmp_path / "authors.csv"]}, tmp_path / "ds"
    )
    rows = _read(tmp_path / "ds" / "segments.csv")
    assert [(r["clip_id"], r["start_s"], r["end_s"], r["split"], r["tags"]) for r in rows] == [
        ("--ZhevVpy1s_50", "50.0", "60.0", "train", "Guitar;Violin"),
        ("--aE2O5G5WE_0", "0.0", "10.0", "train", "Drum"),
        ("-JUBdOr8Hes_30", "30.0", "40.0", "val", "Accordion"),
        ("abc_5.5", "5.5", "15.5", "val", "Guitar"),
    ]
    assert summary.skipped["no instrument label"] == 2
    assert summary.examples["no instrument label"] == ["--PJHxphWEs_30", "xyz_0"]
    assert summary.counts["dropped label Singing"] == 2
    assert summary.counts["dropped label /m/04rlf"] == 1
    assert summary.counts["segments tagged Guitar"] == 2
    assert not (tmp_path / "ds" / "index.csv").exists()  # no videos: the plan only


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("abc,30.000,40.000", "expected 'YTID, start_seconds, end_seconds, labels'"),
        ("abc,thirty,40,Guitar", "start_seconds 'thirty' is not a number"),
        ("abc,40,30,Guitar", r"segment \[40, 30\] is empty or negative"),
        ("abc,10,nan,Guitar", "end_seconds 'nan' is not a finite number"),
    ],
)
def test_malformed_rows_name_file_and_row(tmp_path, line, problem):
    bad = tmp_path / "bad.csv"
    bad.write_text(f"# header\nok,0,10,Guitar\n{line}\n")
    with pytest.raises(InputError, match=rf"bad.csv, row 3: {problem}"):
        audioset.prepare({"train": [bad]}, tmp_path / "ds")


def test_duplicate_segments_are_skipped_once(tmp_path):
    (tmp_path / "a.csv").write_text("abc,0,10,Guitar\n")
    (tmp_path / "b.csv").write_text("abc,0,10,Guitar\nabc,10,20,Guitar\n")
    summary = audioset.prepare(
        {"train": [tmp_path / "a.csv"], "val": [tmp_path / "b.csv"]}, tmp_path / "ds"
    )
    assert summary.skipped == {"segment listed again (first in a.csv)": 1}
    assert summary.counts["val: segments"] == 1


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg executable not installed")
def test_clips_cut_from_whole_videos_and_found_precut(tmp_path):
    videos = tmp_path / "downloads"
    videos.mkdir()
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
         "testsrc=size=64x48:rate=10:duration=25", "-f", "lavfi", "-i",
         "sine=frequency=440:duration=25", "-shortest", "-c:v", "libx264", "-c:a", "aac",
         str(videos / "whole_video.mp4")],
        check=True,
    )  # fmt: skip
    shutil.copy(videos / "whole_video.mp4", videos / "precut_clip_0.mp4")
    (tmp_path / "seg.csv").write_text(
        "whole_video,12,22,Guitar\nprecut_clip,0,10,Piano\nnot_downloaded,0,10,Piano\n"
    )
    out = tmp_path / "ds"
    summary = audioset.prepare({"train": [tmp_path / "seg.csv"]}, out, videos=videos)
    rows = _read(out / "index.csv")
    assert [(r["video_id"], r["tags"], r["path"]) for r in rows] == [
        ("whole_video_12", "Guitar", "videos/whole_video_12.mp4"),
        ("precut_clip_0", "Piano", str((videos / "precut_clip_0.mp4").resolve())),
    ]
    assert float(rows[0]["duration_s"]) == pytest.approx(10.0, abs=0.1)
    assert probe_duration(out / "videos" / "whole_video_12.mp4") == pytest.approx(10.0, abs=0.1)
    assert summary.counts["clips cut from whole videos"] == 1
    assert summary.examples["no downloaded video"] == ["not_downloaded_0"]
    again = audioset.prepare({"train": [tmp_path / "seg.csv"]}, out, videos=videos)
    assert again.counts["clips cut earlier (kept)"] == 1  # re-runnable: nothing is cut twice


def test_reference_segment_lists(tmp_path):
    if not REF.is_dir():
        pytest.skip("../shared/reference-data not found")
    song_list = REF / "song_list" / "AudioSet"
    summary = audioset.prepare(
        {
            "train": [song_list / "unbalanced_train_segments.5000.csv"],
            "val": [song_list / "eval_segments.all.csv"],
        },
        tmp_path,
    )
    # every row of the authors' lists has at least one of the nine instruments
    assert (summary.counts["train: segments"], summary.counts["val: segments"]) == (37954, 921)
    assert summary.counts["dropped label Singing"] == 519
    assert not summary.skipped
