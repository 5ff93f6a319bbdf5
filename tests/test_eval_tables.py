"""Row names, metrics.json round trip and schema, Markdown/CSV tables."""

import csv
import io
import json

import pytest

from ipd.errors import InputError
from ipd.evaluation.action import RowResult, summarize
from ipd.evaluation.tables import (
    build_tables,
    fusion_name,
    metrics_to_json,
    model_name,
    parse_model_name,
    read_metrics,
    to_csv,
    to_markdown,
    write_metrics,
    write_tables,
)

NAMES = ("Cello", "Flute", "Violin")


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (("VT",), "VT"),
        (("ST", 0.5), "ST05"),
        (("ST", 0.1), "ST01"),
        (("OT", None, 0.3), "OT03"),
        (("SOT", 0.5, 0.3), "SOT0503"),
        (("SOT", 0.5, 0.25), "SOT05025"),
        (("ST", 1.0), "ST10"),
        (("ST", 0.0), "ST00"),
    ],
)
def test_model_name_and_its_inverse(args, name):
    assert model_name(*args) == name
    target, v, u = (list(args) + [None, None])[:3]
    assert parse_model_name(name) == (target, v, u, "")


@pytest.mark.parametrize(
    "args", [("ST",), ("VT", 0.5), ("OT", 0.3), ("SOT", 0.5), ("XT",), ("ST", 1.5)]
)
def test_model_name_refuses_wrong_thresholds(args):
    with pytest.raises(ValueError):
        model_name(*args)


def test_fusion_names():
    assert fusion_name("SOT0503", with_object=True) == "SOT0503xO"
    assert fusion_name("SOT0503", with_sound=True) == "SOT0503xS"
    assert fusion_name("SOT0503", True, True) == "SOT0503xOxS"
    assert parse_model_name("SOT0503xOxS") == ("SOT", 0.5, 0.3, "xOxS")
    assert parse_model_name("VTxO") == ("VT", None, None, "xO")
    for baseline in ("Center", "Sound", "Object", "SxO"):
        assert parse_model_name(baseline) is None


def _rows() -> dict[str, RowResult]:
    inst = {"a": "Cello", "b": "Violin", "c": "Violin", "d": "Flute"}

    def s(values):
        return summarize(values, inst, NAMES)

    def px(frames):  # video -> its frames' distances
        return summarize({v: sum(d) / len(d) for v, d in frames.items()}, inst, NAMES, frames)

    return {
        # Center: video means 40, 30, 20; over its 4 frames 27.5; over instruments 32.5
        "Center": RowResult(None, px({"a": [40.0], "b": [30.0], "c": [10.0, 30.0]})),
        "Sound": RowResult(s({"a": 0.9, "b": 0.8, "c": None, "d": None}), None),
        "SOT0503": RowResult(
            s({"a": 0.75, "b": 0.5, "c": 1.0, "d": None}),
            px({"a": [20.0], "b": [10.0], "c": [30.0]}),
        ),
        "SOT0503xO": RowResult(
            s({"a": 0.5, "b": 0.5, "c": 0.5, "d": None}),
            px({"a": [10.0], "b": [10.0], "c": [10.0]}),
        ),
    }


def test_metrics_json_schema_and_round_trip(tmp_path):
    path = write_metrics(tmp_path / "metrics.json", _rows())
    data = read_metrics(path)
    assert data == metrics_to_json(_rows())
    assert list(data) == ["Center", "Sound", "SOT0503", "SOT0503xO"]
    assert data["Center"]["temporal_auc"] is None and data["Center"]["spatial_px"] == 27.5
    assert data["Center"]["spatial_px_macro"] == 32.5
    assert data["Sound"]["spatial_px"] is None
    assert data["Sound"]["temporal_auc"] == pytest.approx(0.85, abs=1e-12)
    assert data["SOT0503"]["per_instrument"] == {
        "Cello": {"temporal_auc": 0.75, "spatial_px": 20.0},
        "Flute": {"temporal_auc": None, "spatial_px": None},
        "Violin": {"temporal_auc": 0.75, "spatial_px": 20.0},
    }
    assert data["SOT0503"]["temporal_auc"] == 0.75 and data["SOT0503"]["spatial_px"] == 20.0
    assert data["Sound"]["skipped_videos"] == {"temporal": ["c", "d"], "spatial": []}
    assert write_metrics(tmp_path / "again.json", data).read_text() == path.read_text()


def test_metrics_schema_errors_name_the_file(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"VT": {"temporal_auc": "high", "per_instrument": {}}}))
    with pytest.raises(InputError, match=r"metrics\.json: row 'VT': 'temporal_auc'"):
        read_metrics(path)
    path.write_text(json.dumps({"VT": {"temporal_auc": 0.5, "spatial_px": None}}))
    with pytest.raises(InputError, match="lacks a 'per_instrument'"):
        read_metrics(path)


def test_tables_layout_and_numbers():
    metrics = metrics_to_json(_rows())
    tables = build_tables(metrics)
    assert list(tables) == [
        "overall",
        "temporal_per_instrument",
        "spatial_per_instrument",
        "fusion_temporal",
        "fusion_spatial",
    ]
    _, header, rows = tables["overall"]
    assert header[0] == "Model" and [r[0] for r in rows] == ["Center", "Sound", "SOT0503"]
    assert rows[2][1:3] == [0.5, 0.3]  # thresholds parsed from the name
    _, header, rows = tables["spatial_per_instrument"]
    assert header == ["Instrument", "Center", "SOT0503"]
    assert rows[-1] == [
        "Average",
        32.5,
        20.0,
    ]  # the column's mean: Center (Cello 40 + Violin 25) / 2
    _, header, rows = tables["fusion_temporal"]
    assert header == ["Instrument", "SOT0503", "SOT0503xO"]
    markdown = to_markdown(metrics)
    assert "| SOT0503 | 0.5 | 0.3 | 0.750 | 20.0 |" in markdown
    assert "| Center | NA | NA | NA | 27.5 |" in markdown  # the mean over all positive frames
    # per instrument the best is bold: Cello temporal Sound 0.9 > SOT 0.75; Flute has no value
    assert "| Cello | **0.900** | 0.750 |" in markdown
    assert "| Flute | NA | NA |" in markdown
    assert "| Violin | 25.0 | **20.0** |" in markdown  # spatial: smaller is better
    text = to_csv(*tables["overall"][1:])
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[1] == ["Center", "", "", "", "27.5"]


def test_write_tables_files(tmp_path):
    paths = write_tables(metrics_to_json(_rows()), tmp_path / "tables")
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == sorted(
        [
            "tables.md",
            "overall.csv",
            "temporal_per_instrument.csv",
            "spatial_per_instrument.csv",
            "fusion_temporal.csv",
            "fusion_spatial.csv",
        ]
    )
    assert paths["markdown"].read_text().startswith("### Action detection")
