"""The COCO-style key-point reader on a small file written here as annotations/FORMATS.md says."""

import json

import numpy as np
import pytest

from ipd.errors import InputError
from ipd.evaluation.keypoints import load_keypoints
from ipd.labels import load_label_space

LABELS = load_label_space()
VIOLIN = LABELS.index("Violin") + 1  # category id = label-space index + 1
CELLO = LABELS.index("Cello") + 1


def _coco() -> dict:
    """Two videos: vidA (Violin) with a negative frame, a two-point frame and a one-point frame
    listed out of time order; vidB (Cello) with one positive frame."""
    images = [
        # (id, video, k, t, category)
        (1, "vidA", 1, 0.512, VIOLIN),
        (2, "vidA", 0, 0.0, VIOLIN),
        (3, "vidA", 2, 1.024, VIOLIN),
        (4, "vidB", 0, 5.0, CELLO),
    ]
    kps = [(1, 10.0, 20.0), (1, 30.5, 40.0), (3, 7.0, 8.0), (4, 100.0, 50.0)]
    return {
        "categories": [
            {
                "id": g + 1,
                "name": name,
                "supercategory": "instrument",
                "keypoints": ["contact"],
                "skeleton": [],
            }
            for g, name in enumerate(LABELS.names)
        ],
        "videos": [
            {"id": "vidA", "category_id": VIOLIN, "width": 640, "height": 360, "fps": 30},
            {"id": "vidB", "category_id": CELLO, "width": 480, "height": 360, "fps": 25},
        ],
        "images": [
            {
                "id": i,
                "file_name": f"{vid}@{t}",
                "video_id": vid,
                "frame_index": k,
                "timestamp": t,
                "width": 256 if vid == "vidA" else 341,
                "height": 144 if vid == "vidA" else 256,
                "category_id": c,
            }
            for i, vid, k, t, c in images
        ],
        "annotations": [
            {
                "id": n + 1,
                "image_id": img,
                "category_id": VIOLIN if img != 4 else CELLO,
                "keypoints": [x, y, 2],
                "num_keypoints": 1,
                "bbox": [x - 1, y - 1, 2, 2],
                "area": 4,
                "iscrowd": 0,
            }
            for n, (img, x, y) in enumerate(kps)
        ],
    }


def _write(tmp_path, data) -> str:
    path = tmp_path / "keypoints_test.json"
    path.write_text(json.dumps(data))
    return path


def test_reads_positive_and_negative_frames_sorted_by_time(tmp_path):
    videos = load_keypoints(_write(tmp_path, _coco()), LABELS)
    assert list(videos) == ["vidA", "vidB"]
    a = videos["vidA"]
    assert a.instrument == "Violin"
    assert a.times.tolist() == [0.0, 0.512, 1.024]
    assert a.positives.tolist() == [False, True, True]
    assert [f.frame_index for f in a.frames] == [0, 1, 2]
    assert a.frames[0].keypoints.shape == (0, 2)
    # (x, y) = (column, row), both points of frame 1 kept
    np.testing.assert_array_equal(a.frames[1].keypoints, [[10.0, 20.0], [30.5, 40.0]])
    assert (a.frames[1].width, a.frames[1].height) == (256, 144)
    b = videos["vidB"]
    assert b.instrument == "Cello"
    np.testing.assert_array_equal(b.frames[0].keypoints, [[100.0, 50.0]])
    assert (b.frames[0].width, b.frames[0].height) == (341, 256)


def test_unlabelled_keypoint_visibility_zero_is_not_a_positive(tmp_path):
    data = _coco()
    data["annotations"][2]["keypoints"] = [7.0, 8.0, 0]  # frame 3's only point, v = 0
    videos = load_keypoints(_write(tmp_path, data))
    assert videos["vidA"].positives.tolist() == [False, True, False]


def test_category_not_matching_label_space_is_an_error(tmp_path):
    data = _coco()
    data["categories"][0]["name"] = "Banjo"
    with pytest.raises(InputError, match=r"keypoints_test\.json: category 1 'Banjo'"):
        load_keypoints(_write(tmp_path, data), LABELS)
    assert load_keypoints(_write(tmp_path, data))  # without a label space the names are taken


def test_duplicate_timestamp_in_a_video_is_an_error(tmp_path):
    data = _coco()
    data["images"][0]["timestamp"] = 0.0
    with pytest.raises(InputError, match="vidA has two annotated frames at the same time"):
        load_keypoints(_write(tmp_path, data), LABELS)


def test_missing_image_field_names_the_file_and_field(tmp_path):
    data = _coco()
    del data["images"][2]["timestamp"]
    with pytest.raises(InputError, match=r"keypoints_test\.json: image 3 lacks timestamp"):
        load_keypoints(_write(tmp_path, data), LABELS)


def test_video_annotated_for_two_instruments_is_split_per_instrument(tmp_path):
    # YT8M-IPA annotates one video for both Cello and Saxophone: the unit is (video, instrument).
    data = _coco()
    data["images"][2]["category_id"] = CELLO
    data["annotations"][2]["category_id"] = CELLO
    data.pop("videos", None)
    videos = load_keypoints(_write(tmp_path, data), LABELS)
    assert videos["vidA/Cello"].instrument == "Cello"
    assert videos["vidA/Violin"].instrument == "Violin"
    assert videos["vidA/Cello"].video_id == videos["vidA/Violin"].video_id == "vidA"
    assert len(videos["vidA/Cello"].frames) == 1


def test_not_json_and_missing_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match=r"bad\.json: not valid JSON"):
        load_keypoints(bad)
    with pytest.raises(InputError, match="not found"):
        load_keypoints(tmp_path / "absent.json")
