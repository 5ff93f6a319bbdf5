"""Import of the authors' released clip2frame model (reads ../shared/reference-data/clip2frame)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.signal import convolve

from ipd.errors import InputError
from ipd.evaluation.tagging_metrics import auc_per_clip
from ipd.models.clip2frame_import import (
    RELEASED_WINDOWS,
    feature_name,
    load_released_clip2frame,
    released_parameters,
)

REF = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference-data" / "clip2frame"


@pytest.fixture(scope="module")
def ref() -> Path:
    if not REF.is_dir():
        pytest.skip("../shared/reference-data not found")
    return REF


def sample_features(ref: Path) -> tuple[np.ndarray, np.ndarray]:
    """The 6 released clips (tr, va, te) as ``(6, scales, 128, 911)`` and their 188-tag targets."""
    base = ref / "magnatagatune_sample_features"
    feats, targets = [], []
    for split in ("tr", "va", "te"):
        scales = [
            np.load(base / f"{feature_name(w)}.standard" / f"feat.{split}.npy")[:, 0]
            for w in RELEASED_WINDOWS
        ]
        feats.append(np.stack(scales, axis=1).transpose(0, 1, 3, 2))
        targets.append(np.load(base / f"{feature_name(512)}.standard" / f"target.{split}.npy"))
    return np.ascontiguousarray(np.concatenate(feats)), np.concatenate(targets)


def theano_reference(params: list[np.ndarray], maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The released network written independently with true convolutions, as Theano computes it.

    ``maps`` is ``(scales, T, 128)``. Returns the frame output ``(188, T_seg)`` and clip ``(188,)``.
    """

    def pool4(x: np.ndarray) -> np.ndarray:  # (C, T) -> (C, ceil(T / 4)), ragged last window
        pad = -x.shape[1] % 4
        x = np.pad(x, ((0, 0), (0, pad)), constant_values=-np.inf)
        return x.reshape(x.shape[0], -1, 4).max(axis=2)

    relu = lambda v: np.maximum(v, 0.0)  # noqa: E731
    branches = []
    for s, x in enumerate(maps):
        w1, b1, w2, b2 = params[4 * s : 4 * s + 4]
        xp = np.pad(x, ((4, 3), (0, 0)))  # 'strictsame': 4 before, 3 after
        h = np.stack([convolve(xp, w1[o, 0], mode="valid")[:, 0] for o in range(32)]) + b1[:, None]
        h = pool4(relu(h))
        hp = np.pad(h, ((0, 0), (4, 3)))
        h2 = np.stack(
            [sum(np.convolve(hp[i], w2[o, i, :, 0], "valid") for i in range(32)) for o in range(32)]
        )
        branches.append(pool4(relu(h2 + b2[:, None])))
    h = np.concatenate(branches)
    for k, act in ((24, relu), (26, relu), (28, lambda v: 1 / (1 + np.exp(-v)))):
        h = act(params[k][:, :, 0, 0] @ h + params[k + 1][:, None])
    x = np.arange(-128, 128)
    frame = []
    for c, log_sigma in enumerate(params[30]):
        sigma = np.exp(log_sigma)
        g = np.exp(-(x**2) / (2 * sigma**2)) / (np.sqrt(2 * np.pi) * sigma)
        frame.append(np.convolve(np.pad(h[c], (128, 127)), g, "valid"))
    frame = np.stack(frame)
    return frame, frame.mean(axis=1)


def test_import_matches_an_independent_theano_style_forward(ref):
    released = load_released_clip2frame(ref)
    params = released_parameters(ref / "model.20160309_111546.npz")
    x, _ = sample_features(ref)
    x = x[:1, :, :, :100]  # 100 frames -> 7 segments (the last pool window is ragged)
    with torch.no_grad():
        out = released.model(torch.from_numpy(x))
    frame, clip = theano_reference(params, x[0].transpose(0, 2, 1).astype(np.float64))
    assert out.frame.shape == (1, 188, 7)
    np.testing.assert_allclose(out.frame[0].numpy(), frame, atol=2e-6)
    np.testing.assert_allclose(out.clip[0].numpy(), clip, atol=2e-6)


def test_released_model_ranks_the_true_tags_of_the_sample_clips(ref):
    """Per-clip AUC over the 6 released clips: 0.879 imported correctly, 0.823 without flips.

    Note: the released sample features hold the same (1024-window) map in all six scale
    folders, so the network sees a mismatched input on five scales; the mp3 test in
    test_tagging.py exercises the model on properly computed scales.
    """
    x, targets = sample_features(ref)
    aucs = {}
    for flip in (True, False):
        model = load_released_clip2frame(ref, flip_kernels=flip).model
        with torch.no_grad():
            clip = model(torch.from_numpy(x)).clip.numpy()
        aucs[flip] = auc_per_clip(targets, clip)
    assert np.nanmean(aucs[True]) == pytest.approx(0.8786, abs=2e-3)
    assert np.nanmean(aucs[False]) == pytest.approx(0.8230, abs=2e-3)
    assert aucs[True][0] == 1.0  # classical, violin: both ranked first among 188 tags


def test_released_sample_features_are_one_map_copied_into_every_scale(ref):
    base = ref / "magnatagatune_sample_features"
    feats = [
        np.load(base / f"{feature_name(w)}.standard" / "feat.tr.npy") for w in RELEASED_WINDOWS
    ]
    assert all(np.array_equal(feats[0], f) for f in feats[1:])
    # log(1 + 10000 M) >= 0 with exact zeros in silence: only the 1024 standardizer gives min 0
    minima = {}
    for win in RELEASED_WINDOWS:
        folder = ref / "standardizers" / feature_name(win)
        raw = feats[0] * np.load(folder / "std.npy") + np.load(folder / "mean.npy")
        minima[win] = raw.min()
    assert minima[1024] == pytest.approx(0.0, abs=1e-4)
    assert minima[512] < -0.5 and all(minima[w] > 0.1 for w in (2048, 4096, 8192, 16384))


def test_release_contents(ref):
    released = load_released_clip2frame(ref)
    assert len(released.tags) == 188 and released.tags[:3] == ["guitar", "classical", "slow"]
    assert released.windows == (512, 1024, 2048, 4096, 8192, 16384)
    assert released.mean.shape == released.std.shape == (6, 128)
    assert released.thresholds.shape == (188,)
    sigma = released.model.accumulation.sigma.detach()
    assert 4.8 < float(sigma.min()) < float(sigma.max()) < 19.4  # learned from 16 segments


def test_import_errors_name_the_file(tmp_path, ref):
    with pytest.raises(InputError, match="clip2frame folder not found"):
        load_released_clip2frame(tmp_path / "nowhere")
    bad = tmp_path / "bad.npz"
    np.savez(bad, np.zeros(3), np.zeros(4))
    with pytest.raises(InputError, match=r"bad\.npz: 2 arrays, expected 31"):
        from ipd.models.clip2frame_import import clip2frame_from_lasagne

        clip2frame_from_lasagne(released_parameters(bad), bad)
    params = released_parameters(ref / "model.20160309_111546.npz")
    params[2] = params[2][:, :, :7]
    with pytest.raises(InputError, match=r"arr_2 has shape \(32, 32, 7, 1\)"):
        clip2frame_from_lasagne(params, "model.npz")
    (tmp_path / "model.20160309_111546.npz").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="cannot read as .npz"):
        load_released_clip2frame(tmp_path)
