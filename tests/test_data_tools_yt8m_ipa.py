"""YT8M-IPA converter: every released key point round-trips through pycocotools, plus fixtures."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO

from data_tools import yt8m_ipa
from data_tools.common import load_labels
from ipd.data.index import read_index
from ipd.errors import InputError
from ipd.evaluation.keypoints import load_keypoints

REF = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "reference-data" / "instrument_playing"
)


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    if not (REF / "yt8m_ipa").is_dir():
        pytest.skip("../shared/reference-data not found")
    out = tmp_path_factory.mktemp("ipa")
    summary = yt8m_ipa.convert(REF / "yt8m_ipa", out, video_ids=REF / "video_id.te.json")
    return out / "annotations" / "keypoints_test.json", summary


def test_every_released_keypoint_round_trips_through_pycocotools(released):
    json_path, _ = released
    coco = COCO(str(json_path))
    cat_of = {c["name"]: c["id"] for c in coco.loadCats(coco.getCatIds())}
    assert list(cat_of) == [
        "Accordion", "Cello", "Drum", "Flute", "Guitar", "Piano", "Saxophone", "Trumpet", "Violin"
    ]  # fmt: skip
    by_key = {
        (im["category_id"], im["video_id"], im["timestamp"]): im for im in coco.dataset["images"]
    }
    files = sorted((REF / "yt8m_ipa" / "te").glob("*/*/*.npy"))
    assert len(files) == len(by_key) == 5360
    n_points = n_negative = 0
    for f in files:
        start, end, k = re.match(r"(\d+)_(\d+)\.(\d)\.npy", f.name).groups()
        folder = {"Drummer": "Drum"}.get(f.parent.parent.name, f.parent.parent.name)
        t = int(start) + int(k) * 0.512
        im = by_key[(cat_of[folder], f.parent.name, round(t, 6))]
        assert abs(im["timestamp"] - t) < 1e-9 and im["frame_index"] == int(k)
        assert im["fragment_s"] == [float(start), float(end)]
        rows_cols = np.load(f).reshape(-1, 2)
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[im["id"]]))
        # exact: (row, col) -> (x, y) with no rounding anywhere
        assert [a["keypoints"] for a in anns] == [[c, r, 2] for r, c in rows_cols.tolist()]
        assert all(a["category_id"] == im["category_id"] for a in anns)
        n_points += len(anns)
        n_negative += len(anns) == 0
    assert (n_points, n_negative) == (6470, 2482)  # measured on the release


def test_release_counts_and_missing_guitar_frames(released):
    json_path, summary = released
    data = json.loads(json_path.read_text())
    per_cat = Counter(im["category_id"] for im in data["images"])
    assert per_cat == {1: 600, 2: 600, 3: 600, 4: 600, 5: 560, 6: 600, 7: 600, 8: 600, 9: 600}
    assert len({v["id"] for v in data["videos"]}) == 133 and len(data["videos"]) == 134
    assert all(im["width"] is None and im["height"] is None for im in data["images"])
    assert summary.counts["Guitar: frames listed / found"] == "600 / 560"
    assert any("-B5cKUYMIvU is listed 2 times" in n and "40" in n for n in summary.notes)
    assert any("-nlHkULtBC8 is a test video of 2 instruments" in n for n in summary.notes)
    assert not summary.skipped  # every listed video has all of its 40 frames


def _write_fixture(root: Path) -> None:
    """A tiny release in the real layout: one Drummer video, two fragments, one Violin video."""
    d = root / "te" / "Drummer" / "vidA_______"
    d.mkdir(parents=True)
    for start, end in [(0, 5), (30, 35)]:
        for k in range(10):
            pts = np.array([[10.0 + k, 200.5]]) if k % 2 == 0 else np.zeros((0,))
            np.save(d / f"{start}_{end}.{k}.npy", pts)
    v = root / "te" / "Violin" / "vidB_______"
    v.mkdir(parents=True)
    for k in range(10):
        np.save(v / f"0_5.{k}.npy", np.array([[1.0, 2.0], [3.25, 4.75]]))


def test_fixture_conversion_swaps_axes_and_keeps_negatives(tmp_path):
    _write_fixture(tmp_path / "rel")
    ids = tmp_path / "ids.json"
    ids.write_text(json.dumps({"Drummer": ["vidA_______"], "Violin": ["vidB_______", "vidC"]}))
    summary = yt8m_ipa.convert(tmp_path / "rel", tmp_path / "out", video_ids=ids)
    data = json.loads((tmp_path / "out" / "annotations" / "keypoints_test.json").read_text())
    assert len(data["images"]) == 30 and len(data["annotations"]) == 10 + 20
    drum = [im for im in data["images"] if im["video_id"] == "vidA_______"]
    assert {im["category_id"] for im in drum} == {3}  # Drummer folder -> Drum, id g + 1
    last = next(im for im in drum if im["timestamp"] == 34.608)  # 30 + 9 * 0.512
    assert last["frame_index"] == 9 and last["file_name"] == "vidA_______@34.608"
    assert not [
        a for a in data["annotations"] if a["image_id"] == last["id"]
    ]  # odd k: negative frame, present as an image without annotations
    first = next(a for a in data["annotations"] if a["image_id"] == drum[0]["id"])
    assert first["keypoints"] == [200.5, 10.0, 2] and first["bbox"] == [199.5, 9.0, 2, 2]
    # Violin is listed with a video the release lacks, and has only one of the two fragments
    assert summary.counts["Violin: frames listed / found"] == "40 / 10"
    assert summary.skipped["listed video without annotations"] == 1
    assert summary.skipped["listed video with missing frames"] == 1


def test_malformed_release_files_are_named(tmp_path):
    _write_fixture(tmp_path / "rel")
    bad = tmp_path / "rel" / "te" / "Violin" / "vidB_______" / "0_5.3.npy"
    np.save(bad, np.array([1.0, 2.0, 3.0]))
    with pytest.raises(InputError, match=re.escape(str(bad)) + ".*expected an \\(n, 2\\) array"):
        yt8m_ipa.convert(tmp_path / "rel", tmp_path / "out")
    np.save(bad, np.zeros((0,)))
    odd = bad.with_name("frame3.npy")
    np.save(odd, np.zeros((0,)))
    with pytest.raises(InputError, match="frame3.npy: not a '<start>_<end>.<k>.npy'"):
        yt8m_ipa.convert(tmp_path / "rel", tmp_path / "out")
    odd.unlink()
    (tmp_path / "rel" / "te" / "Banjo" / "x").mkdir(parents=True)
    np.save(tmp_path / "rel" / "te" / "Banjo" / "x" / "0_5.0.npy", np.zeros((0,)))
    with pytest.raises(InputError, match="Banjo: instrument folder not in the label space"):
        yt8m_ipa.convert(tmp_path / "rel", tmp_path / "out")


def test_videos_give_frame_sizes_and_test_index(tmp_path):
    _write_fixture(tmp_path / "rel")
    videos = tmp_path / "out" / "videos"
    videos.mkdir(parents=True)
    writer = cv2.VideoWriter(
        str(videos / "vidA_______.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (80, 60)
    )
    for i in range(20):
        writer.write(np.full((60, 80, 3), i * 10, np.uint8))
    writer.release()
    summary = yt8m_ipa.convert(tmp_path / "rel", tmp_path / "out", videos=videos)
    data = json.loads((tmp_path / "out" / "annotations" / "keypoints_test.json").read_text())
    a = next(v for v in data["videos"] if v["id"] == "vidA_______")
    assert (a["width"], a["height"], a["fps"]) == (80, 60, 10.0)
    im = next(im for im in data["images"] if im["video_id"] == "vidA_______")
    assert (im["width"], im["height"]) == (256, 192)  # longer side 256, aspect kept
    assert summary.skipped["no downloaded video (size left null)"] == 1
    index = (tmp_path / "out" / "index.csv").read_text().splitlines()
    assert index == [
        "video_id,split,tags,path,duration_s",
        "vidA_______,test,Drum,videos/vidA_______.mp4,2.0",
    ]


def test_cli_prints_summary(tmp_path, capsys):
    _write_fixture(tmp_path / "rel")
    assert (
        yt8m_ipa.main(["--annotations", str(tmp_path / "rel" / "te"), "--out", str(tmp_path)]) == 0
    )
    out = capsys.readouterr().out
    assert "frames: 30" in out and "negative frames: 10" in out and "key points: 30" in out


def test_fixture_with_videos_loads_in_the_evaluation(tmp_path):
    _write_fixture(tmp_path / "rel")
    videos = tmp_path / "out" / "videos"
    videos.mkdir(parents=True)
    for vid in ("vidA_______", "vidB_______"):
        writer = cv2.VideoWriter(
            str(videos / f"{vid}.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (64, 48)
        )
        for _ in range(5):
            writer.write(np.zeros((48, 64, 3), np.uint8))
        writer.release()
    yt8m_ipa.convert(tmp_path / "rel", tmp_path / "out", videos=videos)
    annotated = load_keypoints(
        tmp_path / "out" / "annotations" / "keypoints_test.json", load_labels(None)
    )
    drum = annotated["vidA_______"]
    assert drum.instrument == "Drum" and len(drum.frames) == 20
    assert drum.positives.sum() == 10 and (drum.frames[0].width, drum.frames[0].height) == (
        256,
        192,
    )
    assert drum.frames[0].keypoints.tolist() == [[200.5, 10.0]]
    assert {e.video_id for e in read_index(tmp_path / "out", "test")} == {
        "vidA_______",
        "vidB_______",
    }


def test_released_json_with_sizes_loads_in_the_evaluation(released, tmp_path):
    data = json.loads(released[0].read_text())
    # Frame sizes as --videos would record them; without the videos, inferred from the points:
    # 256 x 144 (16:9) unless a point lies below row 144, then 256 x 192 (4:3), then 256 x 256.
    lowest: dict[str, float] = {}
    video_of = {im["id"]: im["video_id"] for im in data["images"]}
    for ann in data["annotations"]:
        vid = video_of[ann["image_id"]]
        lowest[vid] = max(lowest.get(vid, 0.0), ann["keypoints"][1])
    for im in data["images"]:
        low = lowest.get(im["video_id"], 0.0)
        im["width"], im["height"] = 256, next(h for h in (144, 192, 256) if low <= h)
    sized = tmp_path / "sized.json"
    sized.write_text(json.dumps(data))
    annotated = load_keypoints(sized, load_labels(None))
    assert sum(len(v.frames) for v in annotated.values()) == 5360
    # -nlHkULtBC8 is annotated for Cello and for Saxophone: one entry per (video, instrument).
    assert annotated["-nlHkULtBC8/Cello"].instrument == "Cello"
    assert annotated["-nlHkULtBC8/Saxophone"].video_id == "-nlHkULtBC8"
    assert len(annotated) == 134
    # The Center baseline under this size rule (docs/evaluation.md): the authors' aggregation
    # (mean over all positive frames) and the mean over instruments.
    from ipd.evaluation.action import center_distance

    center = center_distance(annotated, load_labels(None).names)
    assert center.frame_mean == pytest.approx(36.83, abs=0.01)
    assert center.overall == pytest.approx(36.40, abs=0.01)
