"""``ipd detect`` end to end: a SynthIPA video, a video without audio, a portrait 1080x1920 video,
the authors'-weights route (parity with the original ``Net`` forward passes), bad inputs, and a
10-minute video (slow) with bounded memory. Checkpoints are trained for one epoch on the tiny
world (width 0.125, 128-px frames)."""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import math
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ipd.errors import InputError
from ipd.evaluation.predictions import MapGrid, load_prediction
from tests.conftest import TINY_SIZE
from tests.test_features_media import texture, tone, write_video

pytestmark = pytest.mark.usefixtures("one_torch_thread")
HAS_REPORT = importlib.util.find_spec("ipd.report") is not None  # written by another helper
NAMES = ("Accordion", "Cello", "Drum", "Flute", "Guitar", "Piano", "Saxophone", "Trumpet", "Violin")


def ipd_detect(argv: list[str]) -> int:
    """``ipd detect ARGV`` as the ``ipd`` entry point runs it (InputError -> one line, exit 2)."""
    from ipd.cli import detect, main

    if detect in main.COMMANDS:
        return main.main(["detect", *argv])
    parser = argparse.ArgumentParser(prog="ipd")
    detect.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["detect", *argv])
    try:
        return int(args.func(args) or 0)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


@pytest.fixture(scope="module")
def ckpts(tiny_ckpts) -> dict[str, Path]:
    """One epoch of sound, object and action (VT: no teachers needed): ``tiny_ckpts``."""
    return tiny_ckpts


def _models(ckpts: dict[str, Path], *roles: str) -> list[str]:
    return [arg for role in roles for arg in (f"--{role}", str(ckpts[role]))]


def _rows(folder: Path) -> list[dict]:
    with (folder / "scores.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def _upsampled_peak(heat: np.ndarray, height: int, width: int, step: int) -> tuple[int, int]:
    """Independent peak: cells ``step`` px apart from pixel 0 (torch's corner-aligned resize of
    the map to the span of its cells), edge values past the last cell, first arg-max, (x, y)."""
    h, w = heat.shape
    span = F.interpolate(
        torch.from_numpy(heat)[None, None], size=(step * (h - 1) + 1, step * (w - 1) + 1),
        mode="bilinear", align_corners=True,
    )  # fmt: skip
    pad = (0, width - span.shape[-1], 0, height - span.shape[-2])
    big = F.pad(span, pad, mode="replicate")[0, 0].numpy()
    row, col = divmod(int(big.argmax()), width)
    return col, row


def _decoded_frames(path: Path) -> tuple[int, tuple[int, int]]:
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return len(frames), frames[0].shape[:2]


def _moving_video(path: Path, height: int, width: int, fps: float, seconds: float, audio=False):
    """A texture sliding right 2 px per frame (flow to see), optionally with a tone."""
    base = np.stack([texture(height, width + 64, seed=3)] * 3, axis=-1)
    count = round(fps * seconds)
    frames = [base[:, 2 * i % 64 : 2 * i % 64 + width] for i in range(count)]
    return write_video(path, frames, fps, audio=tone(seconds) if audio else None)


# --- end to end -----------------------------------------------------------------------------


def test_synth_video_scores_peaks_predictions_overlay(ckpts, tiny_world, tmp_path, capsys):
    video = tiny_world / "videos" / "violin_test_000.mp4"  # 160 x 90, 10 fps, 6 s, with audio
    out = tmp_path / "out"
    argv = [str(video), "--out", str(out), *_models(ckpts, "action", "object", "sound")]
    assert ipd_detect(argv if HAS_REPORT else [*argv, "--no-report"]) == 0
    stdout = capsys.readouterr().out
    assert stdout.startswith("violin_test_000: 12 frames (6.0 s), AxOxS;")
    folder = out / "violin_test_000"

    # T = ceil(6 / 0.512) = 12 analysis frames x 9 instruments, in label order.
    rows = _rows(folder)
    assert len(rows) == 12 * 9
    assert [r["instrument"] for r in rows[:9]] == list(NAMES)
    assert [r["time_s"] for r in rows[::9]][:3] == ["0.000", "0.512", "1.024"]
    assert rows[-1]["time_s"] == "5.632" and rows[-1]["frame"] == "11"

    preds = {r: load_prediction(folder / "predictions" / f"{r}.npz") for r in
             ("action", "object", "sound", "fused")}  # fmt: skip
    # 128-px frames of a 16:9 video: 128 x 72 -> maps of ceil(72/32) x ceil(128/32) = 3 x 4.
    assert preds["action"].maps.shape == preds["object"].maps.shape == (12, 9, 3, 4)
    assert preds["sound"].scores.shape == (12, 9)
    expected = preds["action"].maps * preds["object"].maps * preds["sound"].scores[..., None, None]
    np.testing.assert_allclose(preds["fused"].maps, expected, rtol=1e-6)
    np.testing.assert_allclose(preds["fused"].times, np.arange(12) * 0.512)

    score = np.array([float(r["score"]) for r in rows]).reshape(12, 9)
    np.testing.assert_allclose(score, expected.max(axis=(2, 3)), atol=1e-6)
    sound = np.array([float(r["sound"]) for r in rows]).reshape(12, 9)
    np.testing.assert_allclose(sound, preds["sound"].scores, atol=1e-6)
    # The peak is the arg-max of the fused map upsampled to the 256-px frame (256 x 144), each
    # cell where the network looks: (32 j, 32 i) of the 128 x 72 input, (64 j, 64 i) in the frame.
    assert preds["fused"].grid == MapGrid(stride=32, offset=0, height=72, width=128)
    for k, g in [(0, 0), (5, 8), (11, 4)]:
        row = rows[9 * k + g]
        xy = _upsampled_peak(expected[k, g], 144, 256, step=64)
        assert (int(row["x_256"]), int(row["y_256"])) == xy
        # Video pixels: centre of the 256-px pixel scaled by 160/256 (= 90/144), clipped.
        src = np.clip((np.array(xy) + 0.5) * 0.625 - 0.5, 0, [159, 89])
        assert (float(row["x"]), float(row["y"])) == pytest.approx(tuple(src), abs=0.051)
    for r in rows:
        assert 0 <= int(r["x_256"]) < 256 and 0 <= int(r["y_256"]) < 144
        assert 0 <= float(r["x"]) <= 159 and 0 <= float(r["y"]) <= 89

    doc = json.loads((folder / "scores.json").read_text())
    assert doc["num_frames"] == 12 and doc["fusion"] == "AxOxS"
    assert doc["source"] | {"path": None} == {
        "path": None, "width": 160, "height": 90, "duration_s": 6.0, "fps": 10.0,
        "has_audio": True,
    }  # fmt: skip
    assert doc["frame_256"] == {"width": 256, "height": 144}
    assert doc["times"][:2] == [0.0, 0.512] and list(doc["instruments"]) == list(NAMES)
    violin = doc["instruments"]["Violin"]
    assert len(violin["score"]) == len(violin["peak"]) == 12
    assert violin["sound"] == pytest.approx(preds["sound"].scores[:, 8].tolist(), abs=1e-6)

    # The overlay plays at the source rate: 6 s x 10 fps, 480 x 270, the top instrument.
    assert _decoded_frames(folder / "overlay.mp4") == (60, (270, 480))
    top = doc["top"][0]["instrument"] if doc["top"] else NAMES[int(np.argmax(score.mean(0)))]
    assert doc["overlay"] == {"file": "overlay.mp4", "instrument": top, "fps": 10.0,
                              "size": {"height": 270, "width": 480}}  # fmt: skip
    assert doc["action_model"] == "VT"  # the checkpoint's target: the paper's row names
    if HAS_REPORT:
        page = (folder / "index.html").read_text()
        assert "<title>violin_test_000: VTxOxS</title>" in page
        assert "media/overlay_" in page and (folder / "media" / "timeline.png").is_file()

    # Detect reads no cache and writes none unless asked; with --cache DIR the features it
    # computed are stored there: the very files `ipd extract` writes (flows rounded for storage),
    # left untouched by a rerun. The detections do not depend on it.
    assert sorted(p.name for p in out.iterdir()) == ["violin_test_000"]
    from ipd.features.extract import extract_video
    from ipd.features.params import ExtractParams

    cached = tmp_path / "cache"
    rerun = [*argv, "--no-video", "--no-report", "--cache", str(cached)]
    assert ipd_detect(rerun) == 0
    from ipd.features.cache import digest

    stores = sorted(cached.rglob("*.zarr"))
    assert [p.parent.name.split("-")[0] for p in stores] == ["audio", "flow", "rgb"]
    extract_video(video, "violin_test_000", tmp_path / "extracted", ExtractParams(size=TINY_SIZE))
    extracted = sorted((tmp_path / "extracted").rglob("*.zarr"))
    assert [digest(p) for p in stores] == [digest(p) for p in extracted]
    again = load_prediction(folder / "predictions" / "action.npz")
    np.testing.assert_array_equal(again.maps, preds["action"].maps)
    stamps = [(p / "zarr.json").stat().st_mtime_ns for p in stores]
    assert ipd_detect(rerun) == 0
    assert [(p / "zarr.json").stat().st_mtime_ns for p in stores] == stamps


def test_video_without_audio_runs_action_and_object(ckpts, tmp_path, capsys):
    video = _moving_video(tmp_path / "silent.mp4", 64, 96, fps=12, seconds=3)
    out = tmp_path / "out"
    argv = [str(video), "--out", str(out), *_models(ckpts, "action", "object", "sound")]
    assert ipd_detect(argv if HAS_REPORT else [*argv, "--no-report"]) == 0
    stdout = capsys.readouterr().out
    assert "note: silent: no audio track: running the action and object models only" in stdout
    assert "AxO (no audio track);" in stdout
    folder = out / "silent"
    rows = _rows(folder)
    assert len(rows) == math.ceil(3 / 0.512) * 9 == 54
    assert {r["sound"] for r in rows} == {""} and {r["object"] for r in rows} != {""}
    doc = json.loads((folder / "scores.json").read_text())
    assert doc["fusion"] == "AxO" and doc["source"]["has_audio"] is False
    assert doc["instruments"]["Cello"]["sound"] is None
    assert any("no audio track" in note for note in doc["notes"])
    assert not (folder / "predictions" / "sound.npz").exists()
    if HAS_REPORT:
        assert "<title>silent: VTxO (no audio track)</title>" in (folder / "index.html").read_text()
    # Asking for S explicitly falls back to AxO for this video, with a note.
    assert ipd_detect([*argv, "--fusion", "AxOxS", "--no-video", "--no-report"]) == 0
    assert "fusion AxOxS needs the sound track: using AxO" in capsys.readouterr().out


def test_portrait_1080x1920_video(ckpts, tmp_path):
    video = _moving_video(tmp_path / "portrait.mp4", 1920, 1080, fps=5, seconds=1.6)
    out = tmp_path / "out"
    argv = [str(video), "--out", str(out), *_models(ckpts, "action"), "--no-report"]
    assert ipd_detect([*argv, "--instrument", "drummer"]) == 0  # a YouTube-8M name
    folder = out / "portrait"
    rows = _rows(folder)
    assert len(rows) == math.ceil(1.6 / 0.512) * 9 == 36
    doc = json.loads((folder / "scores.json").read_text())
    assert doc["frame_256"] == {"width": 144, "height": 256}
    assert doc["analysis"]["frame_size"] == {"width": 72, "height": 128}
    assert doc["fusion"] == "A" and doc["source"]["has_audio"] is False
    for r in rows:
        assert 0 <= int(r["x_256"]) < 144 and 0 <= int(r["y_256"]) < 256
        assert 0 <= float(r["x"]) <= 1079 and 0 <= float(r["y"]) <= 1919
    maps = load_prediction(folder / "predictions" / "action.npz").maps
    assert maps.shape == (4, 9, 4, 3)  # 72 x 128 px -> ceil(128/32) x ceil(72/32)
    assert _decoded_frames(folder / "overlay.mp4") == (8, (480, 270))
    assert doc["overlay"]["instrument"] == "Drum" and doc["overlay"]["fps"] == 5.0


# --- bad input --------------------------------------------------------------------------------


def test_model_options_are_checked_before_any_video(ckpts, tmp_path, capsys):
    video = str(tmp_path / "never_read.mp4")
    out = ["--out", str(tmp_path / "out")]
    cases = [
        ([], "an action model is required"),
        ([*_models(ckpts, "action"), "--fusion", "AxS"], "--fusion AxS needs a sound model"),
        ([*_models(ckpts, "action"), "--original-action", str(ckpts["action"])],
         "give one action model"),
        ([*_models(ckpts, "action"), "--original-sound", str(ckpts["sound"])],
         "--original-sound needs --scalers DIR"),
        ([*_models(ckpts, "action"), "--instrument", "Banjo"], "--instrument Banjo"),
        (["--action", str(ckpts["sound"])], "a checkpoint of the sound model (SoundTagger)"),
    ]  # fmt: skip
    for extra, message in cases:
        assert ipd_detect([video, *out, *extra]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --- a long video ---------------------------------------------------------------------------

RSS_SCRIPT = """
import resource, sys
from tests.test_detect import ipd_detect
code = ipd_detect(sys.argv[1:])
print("maxrss_kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(code)
"""


def _lavfi_video(path: Path, seconds: int) -> Path:
    """A moving test pattern, 320 x 180 at 10 fps, with a 440-Hz tone (ffmpeg's lavfi)."""
    import shutil
    import subprocess

    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg executable not installed")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=10",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", str(seconds),
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
         str(path)],
        check=True,
    )  # fmt: skip
    return path


def _run_measured(argv: list[str]) -> int:
    """``ipd detect`` in a fresh process; returns its peak resident memory in kB."""
    import subprocess

    from tests.conftest import REPO

    proc = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, *argv], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return int(proc.stdout.split("maxrss_kb")[-1])


@pytest.mark.slow
def test_ten_minute_video_in_bounded_memory(ckpts, tmp_path):
    from ipd.features.audio import decode_logmel
    from ipd.features.params import ExtractParams
    from ipd.inference import one_pass_sound_scores as sound_scores
    from ipd.staging.checkpoints import load_system
    from ipd.systems.sound import SoundTagger

    models = _models(ckpts, "action", "object", "sound")
    models += [] if HAS_REPORT else ["--no-report"]
    out = tmp_path / "out"
    rss = {}
    for name, seconds in (("one_minute", 60), ("ten_minutes", 600)):
        video = _lavfi_video(tmp_path / f"{name}.mp4", seconds)
        rss[name] = _run_measured([str(video), "--out", str(out), *models])
    print("peak resident memory, kB:", rss)
    # Memory does not grow with the length (10x longer: a few MB more, not 10x).
    assert rss["ten_minutes"] < rss["one_minute"] + 200_000, rss

    folder = out / "ten_minutes"
    rows = _rows(folder)
    assert len(rows) == math.ceil(600 / 0.512) * 9 == 1172 * 9
    assert rows[-1]["frame"] == "1171" and rows[-1]["time_s"] == "599.552"
    doc = json.loads((folder / "scores.json").read_text())
    assert doc["num_frames"] == 1172 and doc["source"]["duration_s"] == 600.0
    with av.open(str(folder / "overlay.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.frames == 6000 and (stream.height, stream.width) == (270, 480)

    # The chunked sound pass (5 windows of 256 frames) equals one pass over the whole track.
    sound = load_prediction(folder / "predictions" / "sound.npz").scores
    system = load_system(SoundTagger, ckpts["sound"])
    params = ExtractParams(size=TINY_SIZE)
    track = decode_logmel(tmp_path / "ten_minutes.mp4", params.windows)
    _, full = sound_scores(system, track, params.windows)
    np.testing.assert_allclose(sound, full[:1172], atol=1e-5, rtol=0)
