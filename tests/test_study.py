"""``ipd study``: seeds, the statistics over seeds and test videos by hand, claims judged on
distributions and the README block (a two-seed study of the tiny world, killed and resumed:
tests/robustness/test_interrupted.py)."""

from __future__ import annotations

import json

import pytest

from ipd.cli.main import main
from ipd.errors import InputError
from ipd.evaluation.action import RowResult, summarize
from ipd.evaluation.spread import describe, video_ci95
from ipd.report.study import readme_block, study_markdown, update_block
from ipd.staging.study import StudyPlan, claims_stats, parse_seeds, rows_stats
from ipd.synth.config import PRESETS


def test_seeds_as_ranges_and_lists():
    assert parse_seeds("0-4") == (0, 1, 2, 3, 4)
    assert parse_seeds("0,2,5") == (0, 2, 5)
    assert parse_seeds("3") == (3,)
    assert parse_seeds("0-1,5") == (0, 1, 5)
    for bad in ("", "a-b", "1,1", "-1"):
        with pytest.raises(InputError, match="--seeds"):
            parse_seeds(bad)


def test_describe_by_hand():
    stat = describe([0.6, 0.8, 0.7])
    assert stat["values"] == [0.6, 0.8, 0.7]
    assert stat["mean"] == pytest.approx(0.7)
    assert stat["std"] == pytest.approx(0.1)  # sqrt(((-.1)^2 + .1^2 + 0) / 2)
    lo, hi = stat["ci95"]
    assert 0.6 - 1e-12 <= lo < 0.7 < hi <= 0.8 + 1e-12  # means of draws lie within the values
    assert describe([0.5, 0.5])["ci95"] == [0.5, 0.5]
    assert describe([2.0])["std"] == 0.0
    assert describe([0.6, 0.8, 0.7]) == stat  # a fixed generator: the same interval every run


def test_video_bootstrap_by_hand():
    # Temporal: Violin has videos of AUC 0.5 and 1.0 (a draw of two has mean 0.5, 0.75 or 1),
    # Cello one video of 0.8 (always drawn): the figure ranges over (0.5 + 0.8) / 2 = 0.65 ...
    # (1 + 0.8) / 2 = 0.9, and both ends are drawn with probability 1/4 each.
    inst = {"a": "Violin", "b": "Violin", "c": "Cello"}
    temporal = summarize({"a": 0.5, "b": 1.0, "c": 0.8}, inst, ("Cello", "Violin"))
    # Spatial: Violin a has 3 frames at 1 px, b one frame at 5 px; pooled over the drawn
    # videos' frames; Cello c (one frame of 3 px) adds its frame to every draw: the lowest draw
    # aa -> (6 x 1 + 3) / 7 = 9 / 7, the highest bb -> (5 + 5 + 3) / 3 = 13 / 3.
    frames = {"a": [1.0, 1.0, 1.0], "b": [5.0], "c": [3.0]}
    spatial = summarize({"a": 1.0, "b": 5.0, "c": 3.0}, inst, ("Cello", "Violin"), frames)
    ci = video_ci95(RowResult(temporal, spatial), inst)
    assert ci["temporal_auc"] == pytest.approx([0.65, 0.9])
    assert ci["spatial_px"] == pytest.approx([9 / 7, 13 / 3])
    one = summarize({"c": 0.8}, inst, ("Cello", "Violin"))
    assert video_ci95(RowResult(one, None), inst) == {
        "temporal_auc": [0.8, 0.8],
        "spatial_px": None,
    }


def _metrics(vt, st, sot, sot_xo, sot_xoxs, center=40.0):
    """A metrics table: (temporal AUC, spatial px) per row."""

    def row(auc, px):
        return {"temporal_auc": auc, "spatial_px": px, "spatial_px_macro": px, "per_instrument": {}}

    return {
        "Center": row(None, center),
        "VT": row(*vt),
        "ST05": row(*st),
        "OT03": row(0.6, vt[1] - 10),
        "SOT0503": row(*sot),
        "SOT0503xO": row(*sot_xo),
        "SOT0503xOxS": row(*sot_xoxs),
    }


def test_claims_over_seeds_count_holds_and_give_the_paired_difference():
    tables = [
        _metrics((0.60, 50.0), (0.70, 48.0), (0.85, 28.0), (0.86, 27.0), (0.90, 27.0)),
        _metrics((0.62, 52.0), (0.61, 49.0), (0.82, 30.0), (0.83, 31.0), (0.85, 31.0)),
        _metrics((0.58, 51.0), (0.66, 47.0), (0.88, 26.0), (0.89, 25.0), (0.91, 25.0)),
    ]
    claims = {c["name"]: c for c in claims_stats(tables)}
    st = claims["ST05 beats VT in time"]
    assert st["kind"] == "ordering" and st["unit"] == "AUC"
    assert st["holds_in"] == 2 and st["of"] == 3  # seed 1: 0.61 < 0.62
    assert st["paired_diff"]["values"] == pytest.approx([0.10, -0.01, 0.08])
    assert st["paired_diff"]["mean"] == pytest.approx(0.17 / 3)
    space = claims["SOT0503 beats VT in space"]
    assert space["paired_diff"]["values"] == pytest.approx([22.0, 22.0, 25.0])  # VT - SOT px
    assert space["holds_in"] == 3 and space["ci_excludes_zero"] is True
    xo = claims["SOT0503xO <= SOT0503 in space"]
    assert xo["holds_in"] == 2 and xo["paired_diff"]["values"] == pytest.approx([1.0, -1.0, 1.0])
    auc = claims["SOT0503 temporal AUC >= 0.80"]
    assert auc["kind"] == "bar" and auc["margin"]["values"] == pytest.approx([0.05, 0.02, 0.08])
    gain = claims["SOT0503 spatial distance >= 25% below Center"]
    # 1 - px / 40 - 0.25: 0.05, 0.0 (exactly at the bar: holds), 0.1
    assert gain["margin"]["values"] == pytest.approx([0.05, 0.0, 0.1])
    assert gain["holds_in"] == 3 and gain["unit"] == "fraction"
    rows = rows_stats(tables)
    assert rows["VT"]["temporal_auc"]["values"] == [0.60, 0.62, 0.58]
    assert rows["Center"]["temporal_auc"] is None
    assert rows["SOT0503"]["spatial_px"]["mean"] == pytest.approx(28.0)


def test_a_missing_row_makes_a_claim_not_applicable():
    tables = [_metrics((0.6, 50.0), (0.7, 48.0), (0.85, 28.0), (0.86, 27.0), (0.9, 27.0))]
    del tables[0]["ST05"]
    claims = {c["name"]: c for c in claims_stats(tables)}
    assert claims["ST05 beats VT in time"]["holds_in"] is None
    assert "ST05" not in rows_stats(tables)


def test_plan_adds_sweeps_and_the_magnatagatune_teacher_once():
    plan = StudyPlan(seeds=(0,), world=PRESETS["tiny"], sweep_v=(0.1, 0.5), sweep_u=(0.3, 0.7),
                     mtt_teacher="t.ckpt")  # fmt: skip
    names = [a.name for a in plan.actions()]
    assert names == ["VT", "ST05", "OT03", "SOT0503", "SOT0103", "SOT0507", "ST05_mtt"]
    sot = {a.name: a for a in plan.actions()}["SOT0103"]
    assert sot.config == "action_SOT0503" and sot.overrides == ("--model.v=0.1", "--model.u=0.3")


def _study(tables) -> dict:
    return {
        "seeds": [0, 1, 2],
        "date": "2026-12-02",
        "machine": {"cpu": "Test CPU", "flags": ["avx2"], "torch": "2.x", "threads": 2},
        "ci": "bootstrap over seeds",
        "world": {"config": {"seed": 0, "soundfont": "/x/FluidR3_GM.sf2"}, "test_videos": 27},
        "rows": rows_stats(tables),
        "claims": claims_stats(tables),
        "hit_rate": describe([0.8, 0.82, 0.84]),
    }


def test_markdown_and_the_readme_block_come_from_the_study(tmp_path):
    tables = [
        _metrics((0.60, 50.0), (0.70, 48.0), (0.85, 28.0), (0.86, 27.0), (0.90, 27.0)),
        _metrics((0.62, 52.0), (0.61, 49.0), (0.82, 30.0), (0.83, 31.0), (0.85, 31.0)),
        _metrics((0.58, 51.0), (0.66, 47.0), (0.88, 26.0), (0.89, 25.0), (0.91, 25.0)),
    ]
    study = _study(tables)
    text = study_markdown(study)
    assert "2026-12-02, Test CPU (avx2)" in text and "3 seeds (0, 1, 2)" in text
    vt = study["rows"]["VT"]["temporal_auc"]
    lo, hi = vt["ci95"]
    assert f"| VT | 0.600 ± 0.020 [{lo:.3f}, {hi:.3f}] |" in text
    assert "| ST05 beats VT in time | 2 of 3 |" in text
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- results:begin -->\nold table\n<!-- results:end -->\nafter\n")
    (tmp_path / "study.json").write_text(json.dumps(study))
    assert main(["results", str(tmp_path / "study.json"), "--into", str(readme)]) == 0
    new = readme.read_text()
    assert "old table" not in new and new.endswith("<!-- results:end -->\nafter\n")
    assert readme_block(study) in new
    with pytest.raises(InputError, match="no '<!-- results:begin -->'"):
        update_block("no block here", "x", "README.md")
