"""Sound-model frame AUC from sound-activity intervals (Table 4.6 style), by hand."""

import numpy as np
import pytest

from ipd.errors import InputError
from ipd.evaluation.predictions import Prediction
from ipd.evaluation.sound import (
    frame_labels,
    read_sound_activity,
    sound_auc_table,
    sound_frame_auc,
)
from ipd.labels import load_label_space
from ipd.timebase import analysis_times

LABELS = load_label_space()
NAMES = ("Cello", "Flute", "Violin")
TIMES = analysis_times(4)  # 0, 0.512, 1.024, 1.536


def _write(tmp_path, text):
    path = tmp_path / "sound_activity.csv"
    path.write_text(text)
    return path


def test_read_and_sample_intervals_half_open(tmp_path):
    path = _write(
        tmp_path,
        "video_id,instrument,start_s,end_s\n"
        "a,Violin,0.512,1.536\n"  # frames 1 and 2; 1.536 itself is outside [start, end)
        "b,violin,0,0.5\n"  # case-insensitive names
        "b,Cello,0,10\n",
    )
    activity = read_sound_activity(path, LABELS)
    assert activity == {
        "a": [("Violin", 0.512, 1.536)],
        "b": [("Violin", 0.0, 0.5), ("Cello", 0.0, 10.0)],
    }
    labels = frame_labels(activity["a"], TIMES, NAMES)
    np.testing.assert_array_equal(labels[:, 2], [False, True, True, False])
    assert not labels[:, :2].any()
    np.testing.assert_array_equal(frame_labels(activity["b"], TIMES, NAMES)[:, 0], [1, 1, 1, 1])


def test_frame_auc_pools_all_frames_of_all_videos():
    activity = {
        "a": [("Violin", 0.512, 1.536)],  # Violin [0, 1, 1, 0], Cello silent
        "b": [("Violin", 0.0, 0.5), ("Cello", 0.0, 10.0)],  # Violin [1, 0, 0, 0], Cello all on
    }
    scores = {
        "a": [[0.1, 0.0, 0.2], [0.2, 0.0, 0.9], [0.3, 0.0, 0.6], [0.4, 0.0, 0.1]],
        "b": [[0.3, 0.0, 0.35], [0.5, 0.0, 0.4], [0.6, 0.0, 0.3], [0.7, 0.0, 0.2]],
    }
    preds = {
        vid: Prediction(vid, TIMES, NAMES, "sound", scores=np.array(s, dtype=np.float32))
        for vid, s in scores.items()
    }
    result = sound_frame_auc(preds, activity, NAMES)
    # Cello: positives {.3, .5, .6, .7} vs negatives {.1, .2, .3, .4}: 2.5 + 4 + 4 + 4 = 14.5 / 16
    assert result.per_class["Cello"] == pytest.approx(14.5 / 16, abs=1e-12)
    # Violin: positives {.9, .6, .35} vs negatives {.2, .1, .4, .3, .2}: 5 + 5 + 4 = 14 / 15
    assert result.per_class["Violin"] == pytest.approx(14 / 15, abs=1e-12)
    assert result.per_class["Flute"] is None  # never audible: no AUC, left out of the mean
    assert result.mean == pytest.approx((14.5 / 16 + 14 / 15) / 2, abs=1e-12)
    assert result.num_frames == 8
    table = sound_auc_table({"AudioSet": result})
    assert "| Cello | 0.906 |" in table and "| Flute | NA |" in table
    assert "| Average | 0.920 |" in table


def test_bad_rows_name_the_file_and_line(tmp_path):
    path = _write(tmp_path, "video_id,instrument,start_s,end_s\na,Violin,0,1\na,Banjo,0,1\n")
    with pytest.raises(InputError, match=r"sound_activity\.csv: line 3: instrument 'Banjo'"):
        read_sound_activity(path, LABELS)
    assert read_sound_activity(path, LABELS, ignore_unknown=True) == {"a": [("Violin", 0.0, 1.0)]}
    path = _write(tmp_path, "video_id,instrument,start_s,end_s\na,Violin,2,1\n")
    with pytest.raises(InputError, match=r"line 2: interval \[2.0, 1.0\) is invalid"):
        read_sound_activity(path, LABELS)
    path = _write(tmp_path, "video_id,instrument,start\n")
    with pytest.raises(InputError, match="missing column"):
        read_sound_activity(path, LABELS)
