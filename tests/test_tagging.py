"""``ipd tag`` and the tagging package: features, the released model on real MagnaTagATune clips,
CSV/JSON/PNG outputs, save/load, and the instrument mapping of the sound teacher."""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
from pathlib import Path

import librosa
import numpy as np
import pytest
import torch

from ipd.cli import tag as tag_cli
from ipd.errors import InputError
from ipd.features.audio import load_audio, logmel
from ipd.labels import load_label_space
from ipd.models.clip2frame import Clip2Frame
from ipd.models.clip2frame_import import feature_name
from ipd.tagging import Clip2FrameTagger, Clip2FrameTeacher, InstrumentTagMap
from ipd.tagging.plots import plot_sigmas

REF = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference-data" / "clip2frame"
SAMPLES = REF / "magnatagatune_samples"


@pytest.fixture(scope="module")
def ref() -> Path:
    if not REF.is_dir():
        pytest.skip("../shared/reference-data not found")
    return REF


def authors_logmel(path: Path, win: int, pad_mode: str = "constant") -> np.ndarray:
    """The authors' extract_feats.py, called directly: librosa.load at 16 kHz + melspectrogram."""
    y, sr = librosa.load(path, sr=16000)
    mel = librosa.feature.melspectrogram(
        y=y, sr=sr, n_fft=win, hop_length=512, n_mels=128, pad_mode=pad_mode
    )
    return np.log(1 + 10000 * mel).T


@pytest.mark.parametrize("win", [512, 2048, 16384])
def test_features_are_the_authors_method(ref, win):
    ours = logmel(load_audio(SAMPLES / "sample_1.mp3"), win)
    theirs = authors_logmel(SAMPLES / "sample_1.mp3", win)
    assert ours.shape == theirs.shape == (911, 128)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


@pytest.mark.xfail(
    reason="librosa 0.4.3 (the authors') padded centred frames by reflection; librosa >= 0.10 pads "
    "with zeros, so the last ~n_fft/1024 frames differ (up to 0.25 std at window 16384)",
    strict=False,
)
def test_features_match_librosa_043_edge_padding(ref):
    ours = logmel(load_audio(SAMPLES / "sample_1.mp3"), 16384)
    np.testing.assert_allclose(ours, authors_logmel(SAMPLES / "sample_1.mp3", 16384, "reflect"))


def test_released_sample_features_are_not_the_sample_mp3s(ref):
    """The released features come from other clips: no assertion of content parity is possible."""
    folder = ref / "standardizers" / feature_name(1024)
    mean, std = np.load(folder / "mean.npy"), np.load(folder / "std.npy")
    ours = (logmel(load_audio(SAMPLES / "sample_1.mp3"), 1024) - mean) / std
    base = ref / "magnatagatune_sample_features" / f"{feature_name(1024)}.standard"
    clips = np.concatenate([np.load(base / f"feat.{s}.npy")[:, 0] for s in ("tr", "va", "te")])
    corr = [np.corrcoef(ours.ravel(), clip.ravel())[0, 1] for clip in clips]
    assert max(corr) < 0.5


@pytest.fixture(scope="module")
def tagged(ref, tmp_path_factory) -> Path:
    """Run ``ipd tag`` on both Bach cantata samples once."""
    out = tmp_path_factory.mktemp("tags")
    parser = argparse.ArgumentParser()
    tag_cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(
        [
            "tag",
            str(SAMPLES / "sample_1.mp3"),
            str(SAMPLES / "sample_2.mp3"),
            "--clip2frame-dir",
            str(ref),
            "--out",
            str(out),
        ]
    )
    assert args.func(args) == 0
    return out


@pytest.mark.parametrize("name", ["sample_1", "sample_2"])
def test_tag_names_classical_tags_for_bach_cantatas(tagged, name):
    doc = json.loads((tagged / f"{name}.tags.json").read_text())
    top3 = [tag for tag, _ in doc["top_tags"][:3]]
    assert "classical" in top3
    assert {"violin", "strings", "classical", "opera"} >= set(top3[:2])
    assert len(doc["tags"]) == 188 and len(doc["clip"]) == 188
    # 911 mel frames -> 57 segments of 0.512 s
    assert doc["period_s"] == 0.512 and len(doc["times_s"]) == len(doc["frame"]) == 57
    assert doc["times_s"][:3] == [0.0, 0.512, 1.024] and len(doc["frame"][0]) == 188


def test_tag_writes_csv_with_timestamps_and_png(tagged):
    with (tagged / "sample_1.tags.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["time_s", "guitar", "classical"] and len(rows[0]) == 189
    assert [row[0] for row in rows[1:3]] == ["0.000", "0.512"] and len(rows) == 58
    png = (tagged / "sample_1.tags.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
def test_tag_a_video_file(ref, tmp_path):
    video = tmp_path / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=black:s=64x64:r=5:d=6"]
        + ["-i", str(SAMPLES / "sample_1.mp3"), "-t", "6", "-c:v", "mpeg4", "-c:a", "aac"]
        + [str(video)],
        check=True,
    )
    acts = Clip2FrameTagger.from_released(ref).tag_file(video, resolution="mel")
    assert acts.period_s == 0.032 and acts.frame.shape[1] == 188
    assert abs(acts.frame.shape[0] - 6 * 31.25) <= 2
    assert "classical" in [tag for tag, _ in acts.top_tags(5)]


def test_tagger_save_and_load_round_trip(tmp_path):
    config = {"num_classes": 3, "num_scales": 2, "late_channels": (8, 8)}
    model = Clip2Frame(**config)
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(2, 128)).astype(np.float32)
    std = rng.uniform(1, 2, size=(2, 128)).astype(np.float32)
    tagger = Clip2FrameTagger(model, ["a", "b", "c"], (512, 2048), mean, std, name="tiny")
    tagger.save(tmp_path / "tiny.pt", config)
    loaded = Clip2FrameTagger.load(tmp_path / "tiny.pt")
    y = rng.normal(size=16000).astype(np.float32) * 0.1
    a, b = tagger.tag_audio(y), loaded.tag_audio(y)
    assert loaded.tags == ["a", "b", "c"] and loaded.windows == (512, 2048)
    np.testing.assert_array_equal(a.frame, b.frame)
    assert a.frame.shape == (2, 3)  # 32 mel frames -> 2 segments of 16
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(InputError, match="junk.pt"):
        Clip2FrameTagger.load(tmp_path / "junk.pt")


def test_instrument_tag_map_takes_the_max_and_never_guesses():
    labels = load_label_space()
    tags = ["violin", "rock", "fiddle", "drums", "cello"]
    mapping = InstrumentTagMap.from_labels(labels, tags)
    violin, accordion = labels.index("Violin"), labels.index("Accordion")
    assert mapping.tags[violin] == ("violin", "fiddle")
    assert "violins" in mapping.missing[violin]
    assert set(mapping.not_covered) == {
        "Accordion",
        "Flute",
        "Guitar",
        "Piano",
        "Saxophone",
        "Trumpet",
    }
    acts = np.array([[0.2, 0.9, 0.7, 0.1, 0.3], [0.6, 0.0, 0.1, 0.8, 0.0]])
    out = mapping.apply(acts)
    assert out.shape == (2, len(labels))
    assert out[:, violin].tolist() == pytest.approx([0.7, 0.6])  # max of violin, fiddle
    assert out[:, labels.index("Drum")].tolist() == pytest.approx([0.1, 0.8])
    assert np.isnan(out[:, accordion]).all()


def test_released_teacher_covers_eight_instruments(ref):
    teacher = Clip2FrameTeacher(clip2frame_dir=str(ref))
    assert teacher.mapping.not_covered == ["Accordion"]
    out = teacher.tag_file(SAMPLES / "sample_1.mp3")
    assert out.values.shape == (57, 9) and out.times[1] == 0.512
    assert out.covered.sum() == 8 and np.isnan(out.values[:, ~out.covered]).all()
    means = dict(zip(out.instruments, out.values.mean(axis=0), strict=True))
    assert means["Violin"] > 0.5 > means["Drum"]  # a Bach sinfonia for strings
    with pytest.raises(InputError):
        Clip2FrameTeacher()


def test_sigma_plot(ref, tmp_path):
    tagger = Clip2FrameTagger.from_released(ref)
    sigma = tagger.model.accumulation.sigma.detach().numpy()
    rank = np.arange(1, 189)  # the tag list is ordered by training count
    path = plot_sigmas(sigma, 1.0 / rank, tagger.tags, tmp_path / "sigma.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    torch.testing.assert_close(float(sigma.max()), 19.3411, atol=1e-3, rtol=0)


def test_exported_teacher_checkpoint_loads_as_the_sound_system(ref, tmp_path):
    from ipd.staging.checkpoints import extract_params_of, load_system
    from ipd.systems.sound import SoundTagger as SoundSystem

    parser = argparse.ArgumentParser()
    tag_cli.add_parser(parser.add_subparsers())
    ckpt = tmp_path / "teacher.ckpt"
    args = parser.parse_args(["tag", "--clip2frame-dir", str(ref), "--export-teacher", str(ckpt)])
    assert args.func(args) == 0
    system = load_system(SoundSystem, ckpt)
    assert extract_params_of(ckpt).windows == (512, 1024, 2048, 4096, 8192, 16384)
    y = load_audio(SAMPLES / "sample_1.mp3")
    raw = [torch.from_numpy(logmel(y, w).T.copy())[None] for w in system.net.windows]
    with torch.no_grad():
        frames, clip = system(raw)  # the system standardizes with the authors' statistics
    expected = Clip2FrameTeacher(clip2frame_dir=str(ref)).tag_file(SAMPLES / "sample_1.mp3")
    assert frames.shape == (1, 9, 57) and clip.shape == (1, 9)
    np.testing.assert_allclose(frames[0].T.numpy(), expected.values, atol=1e-6)
