"""The main job end to end on the tiny preset: every stage runs, the outputs exist and agree,
and a rerun resumes (nothing is recomputed)."""

from __future__ import annotations

import json

import pytest

from ipd.cli.main import main
from ipd.evaluation.tables import read_metrics

TINY = [
    "--synth=--preset tiny --seed 0",
    "--object-crops=6",
    "--object-boxes=2",
    "--train=--trainer.max_epochs=1 --trainer.check_val_every_n_epoch=1 --data.clip_frames=4"
    " --model.net.init_args.width=0.125",
    "--workers=2",
]


@pytest.mark.slow
def test_demo_runs_every_stage_and_resumes(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), *TINY]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-2] == f"report: {out / 'eval' / 'report' / 'index.html'}"
    assert lines[-1] == f"metrics: {out / 'eval' / 'metrics.json'}"
    metrics = read_metrics(out / "eval" / "metrics.json")
    for row in ("Center", "Sound", "Object", "SxO", "VT", "ST05", "OT03", "SOT0503", "SOT0503xOxS"):
        assert row in metrics, row
    assert metrics["Center"]["temporal_auc"] is None and metrics["Center"]["spatial_px"] > 0
    assert 0.0 <= metrics["SOT0503"]["temporal_auc"] <= 1.0
    claims = json.loads((out / "eval" / "claims.json").read_text())
    assert len(claims) == 8 and all(c["holds"] in (True, False) for c in claims)
    hits = json.loads((out / "eval" / "hit_rate.json").read_text())  # the boxed images
    assert sum(hits["trials"].values()) == 9 * 2
    frames = json.loads((out / "eval" / "hit_rate_frames.json").read_text())  # the test frames
    assert sum(frames["trials"].values()) >= 9
    html = (out / "eval" / "report" / "index.html").read_text()
    assert "SOT0503" in html
    best = out / "runs" / "action_SOT0503" / "checkpoints" / "best.ckpt"
    assert (out / "runs" / "object" / "checkpoints" / "best.ckpt").is_file()
    stamp = best.stat().st_mtime_ns
    # A rerun finds every stage done: checkpoints untouched, same metrics.
    assert main(["demo", "--out", str(out), *TINY, "--no-report"]) == 0
    assert best.stat().st_mtime_ns == stamp
    assert read_metrics(out / "eval" / "metrics.json") == metrics
