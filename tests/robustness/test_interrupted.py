"""Interrupted work: each long command is killed (SIGKILL) mid-way and rerun with the same
arguments. The rerun finishes with what an uninterrupted run gives: byte-identical features and
teacher outputs, training resumed from its last checkpoint, finished stages and seeds not redone;
and no truncated file is ever left under a name that is read as valid (:func:`assert_whole`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from ipd.cli.main import main
from ipd.evaluation.tables import read_metrics
from ipd.features import cache
from ipd.features.batch import extract_many
from ipd.features.params import STREAMS, ExtractParams
from tests.conftest import REPO, TRAINER
from tests.test_features_media import index_frames, tone, write_video

pytestmark = pytest.mark.slow


def start(argv: list) -> subprocess.Popen:
    """``ipd ARGV`` in a new process (output discarded)."""
    command = [sys.executable, "-m", "ipd.cli.main", *map(str, argv)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip


def kill_when(proc: subprocess.Popen, ready: Callable[[], bool], timeout: float = 600) -> bool:
    """SIGKILL ``proc`` as soon as ``ready()``; True when it was still running then."""
    deadline = time.monotonic() + timeout
    while not ready() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.002)
    alive = proc.poll() is None and ready()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return alive


def assert_whole(folder: Path) -> None:
    """Every output under its final name reads whole: JSON parses, ``.npz`` files and feature
    stores load, checkpoints load weights-only. (Temporary files are hidden ``.*.tmp`` names.)"""
    for path in folder.rglob("*"):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if path.suffix == ".zarr":
            reader = cache.StoreReader(path)
            for name in reader.meta.get("windows", ["rgb", "flow"]):
                name = f"logmel_{name}" if isinstance(name, int) else name
                if (path / name).is_dir():
                    reader.rows(name, 0, 10**9)
        if not path.is_file():
            continue
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".npz":
            with np.load(path) as arrays:
                [arrays[k] for k in arrays.files]
        elif path.suffix == ".ckpt":
            torch.load(path, map_location="cpu", weights_only=True)


# --- ipd extract ------------------------------------------------------------------------------

KILLABLE = """
import sys
from pathlib import Path
from ipd.features.batch import extract_many
items = [(Path(p).stem, p) for p in sys.argv[2:]]
extract_many(items, sys.argv[1], workers=1, progress=False)
"""


def test_a_killed_run_resumes_to_byte_identical_outputs(tmp_path):
    seconds = [3, 12, 3, 3, 3]  # v1 is long: the kill lands while it is being written
    videos = [
        write_video(tmp_path / f"v{i}.mkv", index_frames(25 * s), 25, audio=tone(s, seed=i))
        for i, s in enumerate(seconds)
    ]
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    params = ExtractParams()
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLABLE, str(killed), *map(str, videos)], cwd=REPO
    )
    first_done = cache.feature_path(killed, "audio", "v0", params)  # audio is written last
    deadline = time.monotonic() + 120

    def half_written() -> list[Path]:  # the stores of v1 being written under temporary names
        return list(killed.rglob(".v1.zarr.*.tmp"))

    while not (first_done.exists() and half_written()) and time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert first_done.exists() and half_written(), "not killed while writing the second video"
    assert cache.list_cached(killed, "rgb", params) == ["v0"]  # the half-written one is not listed
    assert not cache.feature_path(killed, "audio", "v4", params).exists()

    items = [(p.stem, p) for p in videos]
    resumed = extract_many(items, killed, params, progress=False)
    assert "v0" in resumed.cached and "v4" in resumed.done and not resumed.failed
    extract_many(items, clean, params, progress=False)
    assert list(killed.rglob("*.tmp")) == []  # the dead run's temporary files were removed
    for stream in STREAMS:
        for video in videos:
            a = cache.digest(cache.feature_path(killed, stream, video.stem, params))
            b = cache.digest(cache.feature_path(clean, stream, video.stem, params))
            assert a == b, f"{stream}/{video.stem} differs after the resumed run"
    assert np.all(
        [cache.is_fresh(cache.feature_path(killed, "rgb", v.stem, params), v) for v in videos]
    )


# --- ipd train ------------------------------------------------------------------------------


def test_killed_training_resumes_from_last_checkpoint(tiny_world, tiny_cache, tmp_path):
    root = tmp_path / "run"
    command = [sys.executable, "-m", "ipd.cli.main", "train", "sound",
               f"--trainer.default_root_dir={root}", *TRAINER,
               "--model.net=ipd.models.sound_fcn.SoundFCN", "--model.net.init_args.width=0.125",
               f"--data.dataset={tiny_world}", f"--data.cache={tiny_cache}",
               "--data.clip_frames=8", "--data.clips_per_batch=2",
               "--trainer.max_epochs=40"]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    last = root / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 120
    while not last.is_file() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert last.is_file(), proc.stderr.read().decode()[-2000:]
    killed_epoch = torch.load(last, map_location="cpu", weights_only=True)["epoch"]
    assert killed_epoch < 39
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "Restoring states from the checkpoint" in rerun.stderr + rerun.stdout
    # The resumed run reached the last epoch (0-based 39) and logged it.
    assert torch.load(last, map_location="cpu", weights_only=True)["epoch"] >= 39
    # The interrupted run's metrics are kept; the resumed run logs beside them.
    first = [line.split(",")[0] for line in (root / "logs" / "csv" / "metrics.csv").open()]
    resumed = [line.split(",")[0] for line in (root / "logs" / "csv-1" / "metrics.csv").open()]
    assert "0" in first and "39" in resumed


# --- ipd teach ------------------------------------------------------------------------------


def test_a_killed_teacher_run_resumes_to_byte_identical_outputs(
    tiny_world, tiny_cache, tiny_ckpts, tmp_path
):
    def argv(out):
        return ["teach", "object", "--checkpoint", tiny_ckpts["object"], "--dataset", tiny_world,
                "--cache", tiny_cache, "--out", out]  # fmt: skip

    killed, clean = tmp_path / "killed", tmp_path / "clean"
    assert kill_when(start(argv(killed)), lambda: any(killed.glob("*.npz")))
    written = sorted(p.name for p in killed.glob("*.npz"))
    assert 0 < len(written) < 27  # killed part-way through the tiny world's 27 videos
    assert_whole(killed)
    assert main([str(a) for a in argv(killed)]) == 0
    assert main([str(a) for a in argv(clean)]) == 0
    assert list(killed.glob(".*.tmp")) == []  # the dead run's temporary file was not kept
    names = sorted(p.name for p in clean.iterdir())
    assert sorted(p.name for p in killed.iterdir()) == names and len(names) == 28
    for name in names:
        assert (killed / name).read_bytes() == (clean / name).read_bytes(), name


# --- ipd demo and ipd study -----------------------------------------------------------------

DEMO = [
    "--synth=--preset tiny --seed 0",
    "--object-crops=6",
    "--object-boxes=2",
    "--train=--trainer.max_epochs=1 --trainer.check_val_every_n_epoch=1 --data.clip_frames=4"
    " --model.net.init_args.width=0.125",
    "--workers=2",
]


def test_a_killed_demo_resumes_and_finishes_every_stage(tmp_path, capsys):
    """The main job on the tiny preset, killed while the object model trains, then rerun."""
    out = tmp_path / "demo"
    sound = out / "runs" / "sound" / "checkpoints" / "best.ckpt"
    killed = kill_when(start(["demo", "--out", out, *DEMO]),
                       lambda: (out / "runs" / "object" / "checkpoints").is_dir())  # fmt: skip
    assert killed and not (out / "eval" / "metrics.json").exists()
    assert_whole(out)
    sound_stamp = sound.stat().st_mtime_ns
    capsys.readouterr()
    assert main(["demo", "--out", str(out), *DEMO]) == 0
    assert sound.stat().st_mtime_ns == sound_stamp  # finished stages are not redone
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
    assert main(["demo", "--out", str(out), *DEMO, "--no-report"]) == 0
    assert best.stat().st_mtime_ns == stamp
    assert read_metrics(out / "eval" / "metrics.json") == metrics


STUDY = [
    "--synth=--preset tiny --seed 0",
    "--object-crops=6",
    "--object-boxes=2",
    "--train=--trainer.max_epochs=1 --trainer.check_val_every_n_epoch=1 --data.clip_frames=4"
    " --model.net.init_args.width=0.125 --trainer.enable_progress_bar=false",
    "--test-world=w3=--seed 3",
]


def test_a_killed_two_seed_study_resumes_runs_and_reports(tmp_path, capsys):
    """A two-seed study of the tiny world, killed while seed 1 trains, then rerun."""
    out = tmp_path / "study"
    seed_0 = out / "seed_0" / "complete.json"
    killed = kill_when(start(["study", "--seeds", "0-1", "--out", out, *STUDY]),
                       lambda: (out / "seed_1" / "runs" / "sound").is_dir())  # fmt: skip
    assert killed and seed_0.is_file() and not (out / "study.json").exists()
    assert_whole(out)
    capsys.readouterr()
    assert main(["study", "--seeds", "0-1", "--out", str(out), *STUDY]) == 0
    assert "seed 0: finished earlier" in capsys.readouterr().out
    study = json.loads((out / "study.json").read_text())
    assert study["seeds"] == [0, 1]
    assert study["world"]["test_videos"] == 9 and study["machine"]["cpu"]
    vt = study["rows"]["VT"]["temporal_auc"]
    assert len(vt["values"]) == 2 and vt["mean"] == pytest.approx(np.mean(vt["values"]))
    for seed, value in zip((0, 1), vt["values"], strict=True):  # each value is its seed's run
        metrics = json.loads((out / f"seed_{seed}" / "eval" / "metrics.json").read_text())
        assert metrics["VT"]["temporal_auc"] == value
    assert len(study["claims"]) == 8 and all(c["of"] == 2 for c in study["claims"])
    assert len(study["hit_rate"]["values"]) == 2
    other = study["test_worlds"]["w3"]
    assert other["test_videos"] == 9 and len(other["rows"]["SOT0503"]["spatial_px"]["values"]) == 2
    assert (out / "study.md").read_text().startswith("## Results over seeds")
    assert (out / "report" / "index.html").is_file() and (out / "report" / "seeds.png").is_file()
    # The seeds' checkpoints differ (each seed trains its own chain) ...
    a, b = (out / f"seed_{s}" / "runs" / "action_VT" / "checkpoints" / "best.ckpt" for s in (0, 1))
    assert a.read_bytes() != b.read_bytes()
    # ... and a rerun finds both seeds finished: nothing retrained, the same study.
    stamp = a.stat().st_mtime_ns
    capsys.readouterr()
    assert main(["study", "--seeds", "0-1", "--out", str(out), *STUDY]) == 0
    assert "seed 1: finished earlier" in capsys.readouterr().out
    assert a.stat().st_mtime_ns == stamp
    again = json.loads((out / "study.json").read_text())
    assert again["rows"] == study["rows"] and again["claims"] == study["claims"]
