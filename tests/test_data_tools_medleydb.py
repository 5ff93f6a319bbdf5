"""MedleyDB tool: activation confidences + metadata -> intervals and 0.512-s frame labels."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile

from data_tools import medleydb
from data_tools.common import load_labels
from ipd.data.index import read_index
from ipd.errors import InputError
from ipd.evaluation.sound import frame_labels, read_sound_activity

METADATA = """\
album: ''
artist: Fixture
mix_filename: Fix_Song_MIX.wav
stem_dir: Fix_Song_STEMS
stems:
  S01:
    component: melody
    filename: Fix_Song_STEM_01.wav
    instrument: acoustic guitar
    raw:
      R01: {filename: Fix_Song_RAW_01_01.wav, instrument: acoustic guitar}
  S02:
    component: ''
    filename: Fix_Song_STEM_02.wav
    instrument: distorted electric guitar
  S03:
    component: ''
    filename: Fix_Song_STEM_03.wav
    instrument: tenor saxophone
  S04:
    component: bass
    filename: Fix_Song_STEM_04.wav
    instrument: electric bass
  S05:
    component: ''
    filename: Fix_Song_STEM_05.wav
    instrument: violin
title: Song
version: 1.2
"""


def _lab(path: Path, conf: np.ndarray, hop: float = 0.1) -> None:
    """Write an activation file in MedleyDB's layout: time column, 4 decimals."""
    header = "time," + ",".join(f"S{i + 1:02d}" for i in range(conf.shape[1]))
    lines = [header] + [
        ",".join([f"{j * hop:.4f}"] + [f"{v:.4f}" for v in row]) for j, row in enumerate(conf)
    ]
    path.write_text("\n".join(lines) + "\n")


def _fixture(root: Path) -> Path:
    """One track with 30 samples every 0.1 s; returns the annotations folder."""
    conf = np.full((30, 5), 0.0474)
    conf[2:6, 0] = 0.9  # acoustic guitar, samples 2..5
    conf[5:10, 1] = 0.6  # distorted electric guitar, samples 5..9 -> Guitar 2..9
    conf[10:13, 2] = 0.5  # tenor sax exactly at the threshold: active
    conf[20, 2] = 0.4999  # just below: inactive
    conf[:, 3] = 1.0  # electric bass: not an instrument of the label space
    conf[:, 4] = 0.3  # violin stem never active
    ann = root / "Annotations" / "Fix_Song_ANNOTATIONS"
    ann.mkdir(parents=True)
    _lab(ann / "Fix_Song_ACTIVATION_CONF.lab", conf)
    audio = root / "Audio" / "Fix_Song"
    audio.mkdir(parents=True)
    (audio / "Fix_Song_METADATA.yaml").write_text(METADATA)
    soundfile.write(audio / "Fix_Song_MIX.wav", np.zeros(3 * 8000, np.float32), 8000)
    # a second track with only a bass stem: not one of the instruments
    (ann / ".." / "Bass_Only_ANNOTATIONS").mkdir()
    _lab(ann / ".." / "Bass_Only_ANNOTATIONS" / "Bass_Only_ACTIVATION_CONF.lab", np.ones((5, 1)))
    (audio / "Bass_Only_METADATA.yaml").write_text("stems:\n  S01: {instrument: electric bass}\n")
    return root / "Annotations"


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_intervals_frame_labels_and_aggregation(tmp_path):
    ann = _fixture(tmp_path)
    out = tmp_path / "ds"
    summary = medleydb.convert(ann, out, metadata=tmp_path / "Audio", audio=tmp_path / "Audio")
    activity = _read(out / "annotations" / "sound_activity.csv")
    # sample j covers [t_j - 0.05, t_j + 0.05): guitar samples 2..9, sax samples 10..12
    assert [(r["video_id"], r["instrument"], r["start_s"], r["end_s"]) for r in activity] == [
        ("Fix_Song", "Guitar", "0.15", "0.95"),
        ("Fix_Song", "Saxophone", "0.95", "1.25"),
    ]
    frames = _read(out / "annotations" / "frame_labels.csv")
    assert len(frames) == 6  # the 3.0-s mix: ceil(3.0 / 0.512) analysis frames
    assert [f["timestamp_s"] for f in frames] == ["0.0", "0.512", "1.024", "1.536", "2.048", "2.56"]
    assert [f["Guitar"] for f in frames] == ["0", "1", "0", "0", "0", "0"]  # 0.512 in [.15, .95)
    assert [f["Saxophone"] for f in frames] == [
        "0",
        "0",
        "1",
        "0",
        "0",
        "0",
    ]  # 1.024 in [.95, 1.25)
    assert {f["Violin"] for f in frames} == {"0"} and {f["Drum"] for f in frames} == {"0"}
    index = _read(out / "index.csv")
    assert [(r["video_id"], r["split"], r["tags"], r["duration_s"]) for r in index] == [
        ("Fix_Song", "test", "Guitar;Saxophone", "3.0")
    ]
    assert index[0]["path"].endswith("Audio/Fix_Song/Fix_Song_MIX.wav")
    assert summary.skipped == {"none of the instruments": 1}
    assert summary.counts["tracks with a Violin stem"] == 1
    assert summary.counts["active frames of Guitar"] == 1


def test_threshold_and_all_tracks(tmp_path):
    ann = _fixture(tmp_path)
    out = tmp_path / "ds"
    summary = medleydb.convert(
        ann, out, metadata=tmp_path / "Audio", threshold=0.25, all_tracks=True
    )
    activity = _read(out / "annotations" / "sound_activity.csv")
    # at 0.25 the violin stem (0.3 everywhere) is active over the whole annotated span
    assert ("Violin", "0.0", "2.95") in {
        (r["instrument"], r["start_s"], r["end_s"]) for r in activity
    }
    assert summary.counts["tracks"] == 2 and not summary.skipped
    assert not (out / "index.csv").exists()  # no --audio: no paths to index


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("time,bass\n0.0,0.1\n0.1,0.2\n", "row 1: expected a header 'time,S01,S02,...'"),
        ("time,S01\n0.0,0.1\n0.1\n", "row 3: 1 fields, the header has 2"),
        ("time,S01\n0.0,0.1\n0.1,high\n", "row 3: S01 'high' is not a number"),
        ("time,S01\n0.1,0.1\n0.1,0.2\n", "row 3: time 0.1 does not increase"),
        ("time,S01\n0.0,0.1\n0.1,1.5\n", r"row 3: activation confidence outside \[0, 1\]"),
    ],
)
def test_malformed_activation_files(tmp_path, text, problem):
    bad = tmp_path / "Bad_ACTIVATION_CONF.lab"
    bad.write_text(text)
    with pytest.raises(InputError, match=rf"Bad_ACTIVATION_CONF.lab, {problem}"):
        medleydb.read_activation_conf(bad)


def test_malformed_metadata(tmp_path):
    bad = tmp_path / "Bad_METADATA.yaml"
    bad.write_text("title: x\n")
    with pytest.raises(InputError, match="Bad_METADATA.yaml: no 'stems' mapping"):
        medleydb.read_stem_instruments(bad)
    bad.write_text("stems:\n  S01: {filename: a.wav}\n")
    with pytest.raises(InputError, match="stem S01 has no instrument label"):
        medleydb.read_stem_instruments(bad)
    bad.write_text("stems:\n  S01: {instrument: [Violin, viola]}\n")
    assert medleydb.read_stem_instruments(bad) == {"S01": ["violin", "viola"]}


def test_outputs_agree_with_the_project_readers(tmp_path):
    ann = _fixture(tmp_path)
    out = tmp_path / "ds"
    medleydb.convert(ann, out, metadata=tmp_path / "Audio", audio=tmp_path / "Audio")
    labels = load_labels(None)
    activity = read_sound_activity(out / "annotations" / "sound_activity.csv", labels)
    rows = _read(out / "annotations" / "frame_labels.csv")
    times = np.array([float(r["timestamp_s"]) for r in rows])
    expected = np.array([[int(r[n]) for n in labels.names] for r in rows], dtype=bool)
    # the evaluation's own interval -> frame rule gives exactly the written frame labels
    assert np.array_equal(frame_labels(activity["Fix_Song"], times, tuple(labels.names)), expected)
    (entry,) = read_index(out, "test")
    assert entry.tags == ("Guitar", "Saxophone") and entry.path.is_file()
