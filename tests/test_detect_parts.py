"""Parts of ``ipd detect``: chunked sound inference equals one pass, fusion choice, sound
alignment, peak and pixel arithmetic, video ids, summary; and the authors'-weights route checked
against independent re-implementations of the original ``Net`` forward passes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ipd.detect.outputs import Detections, peaks, summary_line, to_source_pixels
from ipd.detect.run import choose_fusion
from ipd.errors import InputError
from ipd.evaluation.predictions import MapGrid, load_prediction
from ipd.features.params import ExtractParams
from ipd.inference import align_sound, neutral_uncovered, sound_context, sound_scores
from ipd.inference import one_pass_sound_scores as one_shot
from ipd.models.sound_fcn import SoundFCN
from ipd.systems.sound import SoundTagger
from tests.test_detect import NAMES, ipd_detect
from tests.test_original_weights import OriginalSoundNet, OriginalVGGNet

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class FakeAudio:
    """The part of ``Features`` sound inference reads: ``meta`` and ``logmel(win, lo, hi)``."""

    def __init__(self, mel_frames: int, windows=(512, 2048, 8192), seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.maps = {w: rng.normal(2.0, 1.5, (mel_frames, 128)).astype(np.float32) for w in windows}
        self.meta = {"audio": {"num_frames": math.ceil(mel_frames / 16), "windows": windows}}

    def logmel(self, win: int, start: int = 0, stop: int | None = None) -> np.ndarray:
        return self.maps[win][16 * start : None if stop is None else 16 * stop]

    def logmel_all(self, win: int) -> np.ndarray:
        return self.maps[win]


def _sound_system(dtype=torch.float32) -> SoundTagger:
    torch.manual_seed(0)
    net = SoundFCN()
    for module in net.modules():  # trained-looking BN statistics
        if isinstance(module, torch.nn.BatchNorm1d):
            module.running_mean.normal_(0, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.normal_(0, 0.3)
    system = SoundTagger(net)
    system.set_standardizer(torch.full((3, 128), 2.0), torch.full((3, 128), 1.5))
    return system.to(dtype).eval()


def test_sound_context_covers_the_receptive_field():
    # Receptive field 36 mel frames at stride 16: ceil(36 / 16) + 1 = 4 analysis frames.
    assert sound_context(SoundFCN(width=0.1)) == 4
    assert sound_context(torch.nn.Identity()) is None


@pytest.mark.parametrize(
    ("mel_frames", "chunk"),
    [(1000, 7), (1000, 20), (16 * 41 + 3, 10), (16 * 40, 13), (16 * 22 + 9, 20)],
)
def test_chunked_sound_equals_one_shot(mel_frames, chunk):
    """Windows with context give the one-pass outputs: to 1e-12 in float64 (the algorithm is
    exact), to float32 rounding in float32 (conv kernels sum in another order per length)."""
    feats = FakeAudio(mel_frames)
    windows = (512, 2048, 8192)
    system = _sound_system(torch.float64)
    times, chunked = sound_scores(system, feats, windows, chunk=chunk)
    _, full = one_shot(system, feats, windows)
    assert chunked.shape == full.shape == (system.net.output_length(mel_frames), 9)
    np.testing.assert_allclose(times, np.arange(len(full)) * 0.512)
    assert full.std() > 0.05  # not saturated
    np.testing.assert_allclose(chunked, full, atol=1e-12, rtol=0)

    system32 = _sound_system(torch.float32)
    _, chunked32 = sound_scores(system32, feats, windows, chunk=chunk)
    _, full32 = one_shot(system32, feats, windows)
    np.testing.assert_allclose(chunked32, full32, atol=2e-6, rtol=0)


def test_chunks_without_context_would_differ():
    """The context matters: windows cut without it change the outputs next to the cuts."""
    import ipd.inference as infer

    feats = FakeAudio(1000)
    system = _sound_system(torch.float64)
    _, full = one_shot(system, feats, (512, 2048, 8192))
    saved = infer.sound_context
    infer.sound_context = lambda net: 0
    try:
        _, cut = sound_scores(system, feats, (512, 2048, 8192), chunk=10)
    finally:
        infer.sound_context = saved
    assert np.abs(cut - full).max() > 1e-3


@pytest.mark.parametrize(
    ("requested", "has_object", "has_sound", "expected", "noted"),
    [
        ("auto", True, True, "AxOxS", False),
        ("auto", True, False, "AxO", False),
        ("auto", False, True, "AxS", False),
        ("auto", False, False, "A", False),
        ("AxOxS", True, False, "AxO", True),
        ("AxS", False, False, "A", True),
        ("AxO", True, True, "AxO", False),
    ],
)
def test_choose_fusion(requested, has_object, has_sound, expected, noted):
    fusion, note = choose_fusion(requested, has_object, has_sound)
    assert fusion == expected and (note is not None) == noted


def test_align_sound_drops_extra_and_pads_missing_frames():
    scores = np.arange(13 * 2, dtype=np.float32).reshape(13, 2) / 100
    kept, note = align_sound(scores, 12)  # 188 mel frames: 13 outputs for a 12-frame video
    assert kept.shape == (12, 2) and note is None and kept[-1, 1] == pytest.approx(0.23)
    padded, note = align_sound(scores[:10], 12)
    assert padded.shape == (12, 2) and np.all(padded[10:] == 0)
    assert note == "audio ends 1.02 s before the video: sound scores 0 for the last 2 frames"
    nan = np.array([[np.nan, 0.2], [np.nan, 0.4]], dtype=np.float32)
    neutral, note = neutral_uncovered(nan, ("Accordion", "Cello"))
    np.testing.assert_allclose(neutral, [[1.0, 0.2], [1.0, 0.4]])
    assert note == "the sound model does not cover Accordion: S = 1"


def test_peaks_are_the_argmax_of_the_upsampled_map():
    maps = np.zeros((2, 2, 3, 3), dtype=np.float32)
    maps[0, 0, 2, 2] = 1.0  # bottom-right cell: with align_corners it lands on the corner pixel
    maps[0, 1, 0, 0] = 1.0  # top-left
    maps[1, 0, 1, 1] = 1.0  # the centre cell: pixel (256 / 2, 144 / 2) of a 257 x 145 frame
    xy = peaks(maps, (145, 257))
    assert xy[0, 0].tolist() == [256, 144] and xy[0, 1].tolist() == [0, 0]
    assert xy[1, 0].tolist() == [128, 72]
    assert xy[1, 1].tolist() == [0, 0]  # all equal: the first pixel in row-major order
    # Placed by a stride-32 grid of a 72 x 96 input scaled to 145 x 257: cell (1, 1) looks at
    # input pixel (32, 32), i.e. frame pixel (32 * 257 / 96, 32 * 145 / 72) = (85.7, 64.4), whose
    # nearest pixel is (86, 64); the last cell (2, 2) at (171.3, 128.9) keeps its value beyond
    # it (edge value), so its first arg-max is the first pixel past it, (172, 129).
    placed = peaks(maps, (145, 257), MapGrid(32, 0, 72, 96))
    assert placed[1, 0].tolist() == [86, 64] and placed[0, 0].tolist() == [172, 129]


def test_peak_pixels_map_back_to_the_video():
    # 1920 x 1080 video, 256 x 144 frame: 7.5 video px per frame px, centres aligned.
    xy = to_source_pixels(np.array([[0, 0], [255, 143], [128, 72]]), (144, 256), (1080, 1920))
    assert xy.tolist() == [[3.2, 3.2], [1915.8, 1075.8], [963.2, 543.2]]  # x.x5 to even
    # An enlarged small video: the first pixel centre would be -0.19: clipped to 0.
    small = to_source_pixels(np.array([[0, 0], [255, 143]]), (144, 256), (90, 160))
    assert small.tolist() == [[0.0, 0.0], [159.0, 89.0]]


def test_summary_line_lists_top_instruments_by_playing_share():
    score = np.zeros((4, 3), dtype=np.float32)
    score[:, 2] = [0.9, 0.8, 0.1, 0.6]  # 3 of 4 frames >= 0.5
    score[:, 0] = [0.7, 0.1, 0.1, 0.1]  # 1 of 4
    det = Detections(
        "v", ("A", "B", "C"), np.arange(4) * 0.512, score, score, None, None,
        np.zeros((4, 3, 2), int), np.zeros((4, 3, 2)),
        {"source": {"duration_s": 2.0, "has_audio": False}, "fusion": "A"},
    )  # fmt: skip
    assert det.top(0.5) == [("C", 0.75), ("A", 0.25)]
    line = summary_line(det, 0.5)
    assert line == "v: 4 frames (2.0 s), A (no audio track); playing (score >= 0.5): C 75%, A 25%"
    assert summary_line(det, 0.95).endswith("no instrument scores >= 0.95")


# --- the authors' weights -------------------------------------------------------------------


def _scalers(folder, seed: int = 5):
    """The authors' scaler layout with made-up values (the real ones: reference-data)."""
    rng = np.random.default_rng(seed)
    folder.mkdir()
    stats = {}
    for win in (512, 2048, 8192):
        mean, std = rng.normal(3, 1, 128), rng.uniform(0.5, 2.0, 128)
        np.save(folder / f"logmel_win{win}_mean.npy", mean)
        np.save(folder / f"logmel_win{win}_std.npy", std)
        stats[win] = (mean, std)
    mean_rgb = np.array([120.0, 110.0, 100.0], dtype=np.float32)
    np.save(folder / "mean_image.RGB.npy", mean_rgb)
    return stats, mean_rgb


def test_authors_weights_match_the_original_forward_passes(tiny_world, tmp_path, capsys):
    torch.manual_seed(21)
    nets = {"action": OriginalVGGNet(9, 10).eval(), "object": OriginalVGGNet(9, 3).eval(),
            "sound": OriginalSoundNet().eval()}  # fmt: skip
    files = []
    for role, net in nets.items():
        path = tmp_path / f"{role}.torch"
        torch.save({"state_dict.model": net.state_dict()}, path)  # the authors' checkpoint dict
        files += [f"--original-{role}", str(path)]
    stats, mean_rgb = _scalers(tmp_path / "scalers")
    video = tiny_world / "videos" / "drum_test_000.mp4"
    out = tmp_path / "out"
    argv = [str(video), "--out", str(out), *files, "--scalers", str(tmp_path / "scalers"),
            "--size", "64", "--no-video", "--no-report"]  # fmt: skip
    assert ipd_detect(argv) == 0
    assert "drum_test_000: 12 frames (6.0 s), AxOxS;" in capsys.readouterr().out
    folder = out / "drum_test_000" / "predictions"
    preds = {role: load_prediction(folder / f"{role}.npz") for role in nets}
    assert preds["action"].source.startswith("original:")

    # The inputs as detect's one decoding pass makes them (flows unrounded), fed to the original
    # networks in one batch.
    from ipd.features.audio import decode_logmel
    from ipd.features.flow import flow_function
    from ipd.features.stream import iter_batches, plan_visual

    params = ExtractParams(size=64)
    plan = plan_visual(video, params)
    (batch,) = iter_batches(video, plan, flow_function("farneback"), batch=64)
    track = decode_logmel(video, (512, 2048, 8192))
    with torch.no_grad():
        flow = torch.from_numpy(batch.flow)
        rgb = torch.from_numpy(batch.rgb.transpose(0, 3, 1, 2).astype(np.float32))
        mels = [(track.logmel_all(w) - stats[w][0]) / stats[w][1] for w in (512, 2048, 8192)]
        sound_in = [torch.from_numpy(m.T[None, :, :, None].astype(np.float32)) for m in mels]
        action = nets["action"](flow)[0].numpy()
        obj = nets["object"](rgb - torch.from_numpy(mean_rgb)[:, None, None])[0].numpy()
        sound = nets["sound"](sound_in)[0][0].T.numpy()
    assert action.shape == (12, 9, 2, 2)  # 64 x 36 px frames
    assert action.std() > 0.01 and obj.std() > 0.01 and sound.std() > 0.01
    np.testing.assert_allclose(preds["action"].maps, action, atol=1e-5)
    np.testing.assert_allclose(preds["object"].maps, obj, atol=1e-5)
    np.testing.assert_allclose(preds["sound"].scores, sound[:12], atol=1e-5)


def test_authors_scalers_are_checked(tmp_path):
    from ipd.detect.models import load_detector

    torch.manual_seed(22)
    action = tmp_path / "action.torch"
    torch.save(OriginalVGGNet(9, 10).state_dict(), action)
    sound = tmp_path / "sound.torch"
    torch.save(OriginalSoundNet().state_dict(), sound)
    _scalers(tmp_path / "scalers")
    np.save(tmp_path / "scalers" / "logmel_win2048_std.npy", np.ones(64))
    with pytest.raises(InputError, match=r"logmel_win2048_std.npy: expected 128 finite values"):
        load_detector(original_action=action, original_sound=sound, scalers=tmp_path / "scalers")
    (tmp_path / "scalers" / "logmel_win512_mean.npy").unlink()
    with pytest.raises(InputError, match=r"logmel_win512_mean.npy: scaler file not found"):
        load_detector(original_action=action, original_sound=sound, scalers=tmp_path / "scalers")
    with pytest.raises(InputError, match=r"sound.torch: 'conv1.weight' has shape"):
        load_detector(original_action=sound)
    detector = load_detector(original_action=action)
    assert detector.params == ExtractParams() and detector.names == NAMES


@pytest.mark.parametrize(
    ("name", "expected"),
    [("params.SOT0503.torch", "SOT0503"), ("params.VT.torch", "VT"), ("action.torch", "A"),
     ("params.SOT0503xO.torch", "A")],
)  # fmt: skip
def test_released_action_file_names_give_the_row_name(name, expected):
    from ipd.detect.models import _name_in_file

    assert _name_in_file(name) == expected
