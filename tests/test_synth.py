"""SynthIPA datasets on disk: formats, determinism, resuming, ground truth vs rendered media.

Most tests read the session's ``tiny_world`` (``ipd synth --preset tiny``, conftest.py); the
determinism tests render a two-video world twice.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from ipd.labels import load_label_space
from ipd.synth.config import PRESETS
from ipd.timebase import ANALYSIS_PERIOD

TINY = PRESETS["tiny"]
pytestmark = pytest.mark.skipif(
    shutil.which("fluidsynth") is None or not Path(TINY.soundfont).is_file(),
    reason="fluidsynth or the FluidR3 GM soundfont is not installed (make system-deps)",
)
SMALL = TINY.replace(instruments=("Violin", "Drum"), videos_per_class=(0, 1, 1))


def _build(out: Path, config=SMALL, workers: int = 1):
    from ipd.synth.builder import build_dataset

    return build_dataset(out, config, workers=workers, progress=False)


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".synth" not in p.parts
    }


@pytest.fixture(scope="module")
def small_twice(tmp_path_factory):
    a, b = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    return _build(a), _build(b), a, b


def test_same_seed_same_bytes(small_twice):
    _, _, a, b = small_twice
    fa, fb = _files(a), _files(b)
    assert sorted(fa) == sorted(fb)
    assert {"index.csv", "annotations/sound_activity.csv", "annotations/keypoints_test.json",
            "videos/violin_test_000.mp4", "videos/drum_val_000.mp4"} <= set(fa)  # fmt: skip
    different = [name for name in fa if fa[name] != fb[name]]
    assert different == []  # annotations, JPEGs and the H.264/AAC mp4 files alike


def test_other_seed_other_world(small_twice, tmp_path):
    _build(tmp_path, SMALL.replace(seed=1))
    _, _, a, _ = small_twice
    assert (tmp_path / "index.csv").read_text() == (a / "index.csv").read_text()
    ours = (tmp_path / "annotations/sound_activity.csv").read_text()
    assert ours != (a / "annotations/sound_activity.csv").read_text()


def test_video_does_not_depend_on_the_others(small_twice, tmp_path):
    """A video is the same whether rendered alone or with others (parallel-safe RNG)."""
    _build(tmp_path, SMALL.replace(instruments=("Drum",), videos_per_class=(0, 0, 1)))
    _, _, a, _ = small_twice
    name = "videos/drum_test_000.mp4"
    assert (tmp_path / name).read_bytes() == (a / name).read_bytes()


def test_rerun_skips_finished_videos(small_twice):
    _, _, a, _ = small_twice
    before = {p: p.stat().st_mtime_ns for p in (a / "videos").glob("*.mp4")}
    summary = _build(a)
    assert (summary.rendered, summary.skipped) == (0, 4)
    assert {p: p.stat().st_mtime_ns for p in (a / "videos").glob("*.mp4")} == before


def test_changed_knob_rerenders(small_twice, tmp_path):
    _, _, a, _ = small_twice
    shutil.copytree(a, tmp_path / "copy")
    summary = _build(tmp_path / "copy", SMALL.replace(crf=30))
    assert (summary.rendered, summary.skipped) == (4, 0)


@pytest.mark.slow
def test_two_workers_same_bytes(small_twice, tmp_path):
    _, _, a, _ = small_twice
    _build(tmp_path, workers=2)
    assert _files(tmp_path) == _files(a)


# --- the session's tiny world -----------------------------------------------------------------


def test_index(tiny_world):
    rows = list(csv.DictReader((tiny_world / "index.csv").open()))
    labels = load_label_space()
    assert len(rows) == 27
    assert {s: sum(r["split"] == s for r in rows) for s in ("train", "val", "test")} == {
        "train": 9, "val": 9, "test": 9}  # fmt: skip
    assert sorted({r["tags"] for r in rows}) == sorted(labels.names)
    assert all(r["duration_s"] == "6" and (tiny_world / r["path"]).is_file() for r in rows)


def test_videos_decode(tiny_world):
    import decord

    from ipd.features.audio import load_audio

    path = tiny_world / "videos/guitar_test_000.mp4"
    reader = decord.VideoReader(str(path))
    assert len(reader) == 60  # 6 s at 10 fps
    assert reader[0].shape == (90, 160, 3)
    assert reader.get_avg_fps() == pytest.approx(10.0)
    audio = load_audio(path)
    assert abs(len(audio) - 6 * 16000) <= 1024  # AAC pads its last frame


def test_keypoints_coco(tiny_world):
    from pycocotools.coco import COCO

    labels = load_label_space()
    coco = COCO(str(tiny_world / "annotations/keypoints_test.json"))
    assert [coco.cats[i]["name"] for i in sorted(coco.cats)] == labels.names
    assert sorted(coco.cats) == list(range(1, 10))
    doc = json.loads((tiny_world / "annotations/keypoints_test.json").read_text())
    per_video = {}
    for img in doc["images"]:
        per_video.setdefault(img["video_id"], []).append(img)
    assert len(per_video) == 9
    for video_id, images in per_video.items():
        assert len(images) == math.ceil(6 / ANALYSIS_PERIOD) == 12
        ks = [i["frame_index"] for i in images]
        assert ks == list(range(12))
        assert [i["timestamp"] for i in images] == pytest.approx([k * 0.512 for k in ks])
        assert all((i["width"], i["height"]) == (256, 144) for i in images)
        assert images[0]["file_name"] == f"{video_id}@0.000"
        cats = {i["category_id"] for i in images}
        assert cats == {labels.index(video_id.split("_")[0]) + 1}
    positives = {a["image_id"] for a in doc["annotations"]}
    assert 0 < len(positives) < len(doc["images"])  # negatives are explicit images
    for a in doc["annotations"]:
        x, y, v = a["keypoints"]
        assert 0 <= x < 256 and 0 <= y < 144 and v == 2
        assert a["category_id"] == coco.imgs[a["image_id"]]["category_id"]
    val = json.loads((tiny_world / "annotations/keypoints_val.json").read_text())
    assert len(val["images"]) == 9 * 12


def test_keypoints_follow_sound_activity(tiny_world):
    """A frame has key points exactly when its time falls in a sound-activity interval."""
    intervals = {}
    for r in csv.DictReader((tiny_world / "annotations/sound_activity.csv").open()):
        intervals.setdefault(r["video_id"], []).append((float(r["start_s"]), float(r["end_s"])))
    doc = json.loads((tiny_world / "annotations/keypoints_test.json").read_text())
    positive = {a["image_id"] for a in doc["annotations"]}
    checked = 0
    for img in doc["images"]:
        t = img["timestamp"]
        spans = intervals[img["video_id"]]
        if any(abs(t - edge) < 2e-3 for span in spans for edge in span):
            continue  # the csv rounds to ms; skip frames on an interval edge
        assert (img["id"] in positive) == any(a <= t < b for a, b in spans)
        checked += 1
    assert checked > 100


def _db(y: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(y**2)) + 1e-9))


def test_sound_activity_matches_audio(tiny_world):
    """Audio is loud inside the intervals and down at the noise floor outside them."""
    from ipd.features.audio import load_audio

    records = {p.stem: json.loads(p.read_text()) for p in (tiny_world / ".synth").glob("*.json")}
    for video_id, rec in sorted(records.items()):
        if rec["split"] != "test":
            continue
        y = load_audio(tiny_world / rec["path"])[: 6 * 16000]
        t = np.arange(len(y)) / 16000
        inside = np.zeros(len(y), bool)
        near = np.zeros(len(y), bool)
        for a, b in rec["intervals"]:
            inside |= (t >= a + 0.05) & (t < b - 0.05)
            near |= (t >= a - 0.05) & (t < b + 0.15)  # AAC smear + the 40-ms fade
        for a, b in rec["context"]["applause"]:
            near |= (t >= a - 0.05) & (t < b + 0.05)
        loud, quiet = _db(y[inside]), _db(y[~near])
        assert loud - quiet > 8.0, video_id  # SNR knob: >= 10 dB
        assert quiet < -30.0, video_id  # music at -24..-14 dBFS, noise 10..30 dB below


def test_voc_boxes(tiny_world):
    import cv2

    from ipd.evaluation.objects import read_voc

    labels = load_label_space()
    xmls = sorted((tiny_world / "annotations/boxes/Annotations").glob("*.xml"))
    assert len(xmls) == 9 * TINY.box_frames
    for path in xmls:
        ann = read_voc(path, labels)
        image = cv2.imread(str(tiny_world / "annotations/boxes/JPEGImages" / f"{ann.image_id}.jpg"))
        assert image.shape == (144, 256, 3) and (ann.width, ann.height) == (256, 144)
        assert ann.boxes[0].label.lower() == ann.image_id.split("_")[0]
        for box in ann.boxes:
            assert 0 <= box.xmin < box.xmax <= 255 and 0 <= box.ymin < box.ymax <= 143
        assert ET.parse(path).getroot().findtext("filename") == f"{ann.image_id}.jpg"


def test_summary_and_config_saved(tiny_world):
    saved = json.loads((tiny_world / "synth_config.json").read_text())
    assert saved["videos_per_class"] == [1, 1, 1]
    assert (saved["width"], saved["height"], saved["fps"]) == (160, 90, 10.0)
