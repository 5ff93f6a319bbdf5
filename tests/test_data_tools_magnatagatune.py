"""MagnaTagATune tool: annotations_final.csv (real TAB/quoted format) -> index, labels, counts."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from data_tools import magnatagatune
from ipd.data.index import read_index
from ipd.errors import InputError
from ipd.labels import load_label_space

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference-data" / "clip2frame"
TAGS = ["guitar", "classical", "slow", "female vocal"]
# clip_id, tags (0/1 per TAGS), mp3_path: folders 0 and b train, c val, d and f test
CLIPS = [
    (
        "2",
        (1, 1, 0, 0),
        "f/american_bach_soloists-j_s__bach_solo_cantatas-01-bwv54__i_aria-30-59.mp3",
    ),
    ("6", (1, 0, 1, 0), "0/a-b-01-x-0-29.mp3"),
    ("10", (1, 1, 1, 0), "b/a-b-02-y-0-29.mp3"),
    ("11", (0, 1, 0, 0), "c/a-b-03-z-30-59.mp3"),
    ("12", (0, 0, 0, 0), "d/a-b-04-w-0-29.mp3"),
    ("13", (0, 0, 0, 1), "0/missing-0-29.mp3"),
]


def write_annotations(path: Path, clips=CLIPS, tags=TAGS) -> Path:
    """The real layout: every field double-quoted, TAB-separated."""
    lines = ["\t".join(f'"{x}"' for x in ("clip_id", *tags, "mp3_path"))]
    for clip_id, values, mp3 in clips:
        lines.append("\t".join(f'"{x}"' for x in (clip_id, *values, mp3)))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def mtt(tmp_path: Path) -> tuple[Path, Path]:
    audio = tmp_path / "mp3"
    for _, _, mp3 in CLIPS[:-1]:  # the last clip's mp3 is absent
        (audio / mp3).parent.mkdir(parents=True, exist_ok=True)
        (audio / mp3).write_bytes(b"")
    return write_annotations(tmp_path / "annotations_final.csv"), audio


def test_split_convention():
    assert [magnatagatune.split_of(f"{d:x}/x.mp3") for d in range(16)] == (
        ["train"] * 12 + ["val"] + ["test"] * 3
    )


def test_convert_top_tags(mtt, tmp_path):
    annotations, audio = mtt
    out = tmp_path / "ds"
    summary = magnatagatune.convert(annotations, audio, out, top=3)
    # counts over all clips: guitar 3, classical 3, slow 2, female vocal 1 -> ties keep column order
    assert load_label_space(out / "labels.yaml").names == ["guitar", "classical", "slow"]
    assert load_label_space(out / "labels.yaml").instruments[2].mtt_tags == ("slow",)
    entries = {e.video_id: e for e in read_index(out)}
    assert sorted(entries) == ["10", "11", "12", "2", "6"]
    assert [entries[i].split for i in ("2", "6", "10", "11", "12")] == [
        "test", "train", "train", "val", "test",
    ]  # fmt: skip
    assert entries["10"].tags == ("guitar", "classical", "slow")
    assert entries["12"].tags == ()
    assert entries["6"].path == (audio / "0/a-b-01-x-0-29.mp3").resolve()
    with (out / "tag_counts.csv").open() as f:
        counts = list(csv.DictReader(f))
    assert [(r["tag"], r["train_clips"], r["val_clips"], r["test_clips"]) for r in counts] == [
        ("guitar", "2", "0", "1"),
        ("classical", "1", "1", "1"),
        ("slow", "2", "0", "0"),
    ]
    assert summary.skipped["mp3 not found"] == 1
    assert "0-b train, c val, d-f test" in (out / "summary.txt").read_text()


def test_convert_tag_list_order(mtt, tmp_path):
    annotations, audio = mtt
    (tmp_path / "tags.txt").write_text("female vocal\nslow\n")
    magnatagatune.convert(annotations, audio, tmp_path / "ds", tag_list=tmp_path / "tags.txt")
    assert load_label_space(tmp_path / "ds" / "labels.yaml").names == ["female vocal", "slow"]
    with pytest.raises(InputError, match="not columns"):
        (tmp_path / "bad.txt").write_text("banjo\n")
        magnatagatune.convert(annotations, audio, tmp_path / "ds", tag_list=tmp_path / "bad.txt")


@pytest.mark.parametrize(
    ("clips", "tags", "message"),
    [
        ([("1", (1, 2, 0, 0), "0/a.mp3")], TAGS, r"row 2: tag 'classical' is not 0 or 1"),
        ([("1", (1, 0, 0), "0/a.mp3")], TAGS, r"row 2: 5 fields, the header has 6"),
        ([("1", (0,) * 4, "0/a.mp3"), ("1", (0,) * 4, "0/b.mp3")], TAGS, r"row 3: .*repeated"),
        ([("1", (0,) * 4, "g/a.mp3")], TAGS, r"row 2: mp3_path 'g/a.mp3' is not in a folder"),
        ([("1", (0, 0), "0/a.mp3")], ["a;b", "c"], r"contains ';'"),
    ],
)
def test_malformed_rows(tmp_path, clips, tags, message):
    path = write_annotations(tmp_path / "annotations_final.csv", clips, tags)
    with pytest.raises(InputError, match=message) as err:
        magnatagatune.read_annotations(path)
    assert str(path) in str(err.value)


def test_bad_header(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("clip_id,guitar,mp3_path\n1,0,0/a.mp3\n")  # commas: not the real format
    with pytest.raises(InputError, match="TAB-separated header"):
        magnatagatune.read_annotations(path)


def test_main_exit_code(mtt, tmp_path, capsys):
    annotations, audio = mtt
    assert magnatagatune.main(["--annotations", str(annotations), "--audio", str(audio),
                               "--out", str(tmp_path / "ds"), "--top", "2"]) == 0  # fmt: skip
    assert "train clips: 2" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        magnatagatune.main(["--annotations", str(tmp_path / "nope.csv"), "--audio", str(audio),
                            "--out", str(tmp_path / "ds")])  # fmt: skip
    assert exit_info.value.code == 2


def test_reference_top50_tags_are_valid():
    path = REFERENCE / "tag_list.top50.txt"
    if not path.is_file():
        pytest.skip("../shared/reference-data not found")
    tags = magnatagatune.read_tag_list(path)
    assert len(tags) == 50 and tags[:3] == ["guitar", "classical", "slow"]
    assert len(magnatagatune.read_tag_list(REFERENCE / "tag_list.top188.txt")) == 188
