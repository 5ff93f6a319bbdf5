"""YouTube-8M index: fold lists + labels + a video folder -> index.csv and 5-s sub-clips."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from data_tools import yt8m_index
from data_tools.common import Summary, load_labels
from ipd.errors import InputError

REF = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "reference-data" / "instrument_playing"
)
TAG_LIST = "Accordion,219,12005\nCello,401,5340\nDrummer,30,78917\nGuitar,14,162864\nViolin,150,1\n"


def _video(path: Path, seconds: int) -> None:
    """A tiny 1-fps video of ``seconds`` seconds."""
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 1.0, (16, 16))
    for i in range(seconds):
        w.write(np.full((16, 16, 3), i, np.uint8))
    w.release()


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def world(tmp_path):
    vids = tmp_path / "ds" / "videos"
    vids.mkdir(parents=True)
    _video(vids / "long_video1.mp4", 75)
    _video(vids / "short_vide2.mp4", 12)
    _video(vids / "tiny_video3.mp4", 3)
    _video(vids / "not_in_fold.mp4", 6)
    (vids / "broken_vid4.mp4").write_bytes(b"not a video at all")
    (tmp_path / "tags.csv").write_text(TAG_LIST)
    (tmp_path / "tr.txt").write_text("long_video1\ntiny_video3\nmissing_vid\nbroken_vid4\n\n")
    (tmp_path / "va.txt").write_text("short_vide2\nlong_video1\nno_labels_5\n")
    (vids / "no_labels_5.webm").write_bytes(b"")
    (tmp_path / "labels.csv").write_text(
        "video_id,labels\nlong_video1,14 30 999\nshort_vide2,150;401\ntiny_video3,30\n"
        "broken_vid4,14\nmissing_vid,14\n"
    )
    return tmp_path


def test_index_and_subclips(world):
    out = world / "ds"
    summary = yt8m_index.build_index(
        out / "videos",
        world / "tags.csv",
        {"train": world / "tr.txt", "val": world / "va.txt"},
        world / "labels.csv",
        out,
    )
    rows = _read(out / "index.csv")
    assert [(r["video_id"], r["split"], r["tags"], r["path"]) for r in rows] == [
        (
            "long_video1",
            "train",
            "Drum;Guitar",
            "videos/long_video1.mp4",
        ),  # label order, 999 dropped
        ("short_vide2", "val", "Cello;Violin", "videos/short_vide2.mp4"),
    ]
    assert float(rows[0]["duration_s"]) == pytest.approx(75.0, abs=0.01)
    clips = _read(out / "subclips.csv")
    long_clips = [c for c in clips if c["video_id"] == "long_video1"]
    assert len(long_clips) == 12  # first 60 s only
    assert (long_clips[-1]["start_s"], long_clips[-1]["end_s"]) == ("55.0", "60.0")
    assert [(c["start_s"], c["end_s"]) for c in clips if c["video_id"] == "short_vide2"] == [
        ("0.0", "5.0"),
        ("5.0", "10.0"),
    ]
    assert summary.skipped == {
        "shorter than one 5-s sub-clip": 1,
        "no downloaded video": 1,
        "unreadable video": 1,
        "listed again (first in train)": 1,
        "no row in the labels CSV": 1,
    }
    assert summary.examples["no downloaded video"] == ["missing_vid"]
    assert summary.examples["unreadable video"] == ["broken_vid4"]
    assert summary.examples["no row in the labels CSV"] == ["no_labels_5"]
    assert summary.counts["videos in the folder not in any fold list"] == 1


def test_other_splits_in_index_are_kept(world):
    out = world / "ds"
    (out / "index.csv").write_text(
        "video_id,split,tags,path,duration_s\nipa1,test,Drum,videos/ipa1.mp4,\n"
        "old,train,Drum,videos/old.mp4,\n"
    )
    yt8m_index.build_index(
        out / "videos", world / "tags.csv", {"train": world / "tr.txt"}, world / "labels.csv", out
    )
    assert [(r["video_id"], r["split"]) for r in _read(out / "index.csv")] == [
        ("ipa1", "test"),
        ("long_video1", "train"),
    ]


def test_malformed_inputs_name_file_and_row(world):
    bad = world / "labels_bad.csv"
    bad.write_text("video_id,labels\nlong_video1,14\nshort_vide2,violin\n")
    with pytest.raises(InputError, match=r"labels_bad.csv, row 3: labels 'violin' are not"):
        yt8m_index.read_video_labels(bad)
    bad.write_text("a,14\na,30\n")
    with pytest.raises(InputError, match=r"row 2: a appears again with other labels"):
        yt8m_index.read_video_labels(bad)
    tags = world / "tags_bad.csv"
    tags.write_text("Guitar,15,1\n")  # another vocabulary version: allowed, but reported
    summary = Summary("t")
    assert yt8m_index.read_tag_list(tags, load_labels(None), summary) == {15: "Guitar"}
    assert "gives Guitar index 15" in summary.notes[0] and "says 14" in summary.notes[0]
    tags.write_text("Guitar,14,1\nBanjo,99,1\n")
    with pytest.raises(InputError, match=r"row 2: 'Banjo' is not in the label space"):
        yt8m_index.read_tag_list(tags, load_labels(None))
    fold = world / "fold_bad.txt"
    fold.write_text("abc\nde f\n")
    with pytest.raises(InputError, match=r"fold_bad.txt, row 2: expected one video id per line"):
        yt8m_index.build_index(
            world / "ds" / "videos",
            world / "tags.csv",
            {"train": fold},
            world / "labels.csv",
            world,
        )


def test_real_tag_list_and_fold_lists():
    if not REF.is_dir():
        pytest.skip("../shared/reference-data not found")
    names = yt8m_index.read_tag_list(REF / "tag_list.instrument.csv", load_labels(None))
    assert names == {
        219: "Accordion", 401: "Cello", 30: "Drum", 376: "Flute", 14: "Guitar",
        36: "Piano", 296: "Saxophone", 427: "Trumpet", 150: "Violin",
    }  # fmt: skip
    from data_tools.common import read_id_list

    tr = read_id_list(REF / "song_list" / "YouTube8M" / "fold.tr.txt")
    va = read_id_list(REF / "song_list" / "YouTube8M" / "fold.va.txt")
    assert (len(tr), len(va), len(set(tr) & set(va))) == (16804, 2100, 0)  # §4.2.3


def test_cli_without_probe(world, capsys):
    code = yt8m_index.main(
        [
            "--videos", str(world / "ds" / "videos"), "--tag-list", str(world / "tags.csv"),
            "--train", str(world / "tr.txt"), "--video-labels", str(world / "labels.csv"),
            "--out", str(world / "ds"), "--no-probe",
        ]
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "train: videos indexed: 3" in out  # unprobed: the short and broken ones pass
    rows = _read(world / "ds" / "index.csv")
    assert {r["duration_s"] for r in rows} == {""}
    assert len(_read(world / "ds" / "subclips.csv")) == 36
