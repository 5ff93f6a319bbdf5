"""Unit tests of the chapter-3 clip2frame network (no reference data needed)."""

from __future__ import annotations

import math

import pytest
import torch

from ipd.models.clip2frame import Clip2Frame, GaussianAccumulation, clip_bce, gaussian_taps

torch.manual_seed(0)


def small(**kwargs) -> Clip2Frame:
    """A narrow network (late widths 16) so tests stay fast; paper layout otherwise."""
    kwargs.setdefault("late_channels", (16, 16))
    kwargs.setdefault("num_classes", 5)
    return Clip2Frame(**kwargs).eval()


@pytest.mark.parametrize(
    ("scales", "layers", "frames", "segments"),
    [(1, 1, 911, 228), (3, 2, 911, 57), (6, 2, 911, 57), (2, 3, 100, 2), (1, 4, 911, 4)],
)
def test_output_shapes_and_sigma_init(scales, layers, frames, segments):
    model = small(num_scales=scales, early_layers=layers)
    out = model(torch.randn(2, scales, 128, frames))
    assert model.total_stride == 4**layers
    assert out.clip.shape == (2, 5)
    assert out.frame.shape == out.pre_accumulation.shape == (2, 5, segments)
    # total_stride x sigma = 256 input frames at initialisation
    sigma = model.accumulation.sigma
    assert torch.allclose(sigma * model.total_stride, torch.full((5,), 256.0))


def test_accepts_list_of_scales_and_rejects_bad_shapes():
    model = small(num_scales=2)
    x = torch.randn(1, 2, 128, 40)
    assert torch.equal(model(x).clip, model([x[:, 0], x[:, 1]]).clip)
    with pytest.raises(ValueError):
        model(torch.randn(1, 3, 128, 40))  # wrong number of scales
    with pytest.raises(ValueError):
        model(torch.randn(1, 2, 40, 128))  # time and mel swapped


def test_gaussian_taps_follow_the_authors_definition():
    assert gaussian_taps(256)[[0, -1]].tolist() == [-128.0, 127.0]
    assert gaussian_taps(257)[[0, -1]].tolist() == [-128.0, 128.0]
    assert GaussianAccumulation(3, 256).padding == (128, 127)


def test_gaussian_is_a_normalized_density_of_the_documented_width():
    layer = GaussianAccumulation(2, length=256, init_sigma=16.0)
    kernel = layer.kernel().detach()
    taps = gaussian_taps(256)
    assert kernel.sum(dim=1) == pytest.approx([1.0, 1.0], abs=1e-5)
    spread = ((kernel * taps**2).sum(dim=1) / kernel.sum(dim=1)).sqrt()
    assert spread == pytest.approx([16.0, 16.0], abs=1e-3)
    # the centre tap is the density's peak 1 / (sqrt(2 pi) 16)
    assert float(kernel[0, 128]) == pytest.approx(1 / (math.sqrt(2 * math.pi) * 16), rel=1e-6)


def test_gaussian_response_to_an_impulse():
    sigma, t0 = 3.0, 20
    x = torch.zeros(1, 1, 50)
    x[0, 0, t0] = 1.0
    expected = [
        math.exp(-(d**2) / (2 * sigma**2)) / (math.sqrt(2 * math.pi) * sigma) for d in (0, 1)
    ]
    centred = GaussianAccumulation(1, 256, sigma)(x)[0, 0]
    assert int(centred.argmax()) == t0
    assert centred[[t0, t0 + 1]].tolist() == pytest.approx(expected, rel=1e-5)
    # Theano's true convolution of an even-length filter: the output lags by one segment.
    lagged = GaussianAccumulation(1, 256, sigma, theano_convolution=True)(x)[0, 0]
    assert int(lagged.argmax()) == t0 + 1
    assert torch.allclose(lagged[1:], centred[:-1])
    odd = GaussianAccumulation(1, 257, sigma, theano_convolution=True)(x)[0, 0]
    assert torch.allclose(odd, GaussianAccumulation(1, 257, sigma)(x)[0, 0])


def test_gradient_reaches_log_sigma_only_when_adaptive():
    adaptive = small(num_scales=1)
    adaptive.train()
    loss = clip_bce(adaptive(torch.randn(2, 1, 128, 64)).clip, torch.ones(2, 5))
    loss.backward()
    grad = adaptive.accumulation.log_sigma.grad
    assert grad is not None and grad.abs().sum() > 0
    fixed = small(num_scales=1, accumulation="fixed")
    names = [name for name, _ in fixed.named_parameters()]
    assert "accumulation.log_sigma" not in names
    assert "accumulation.log_sigma" in fixed.state_dict()


def test_pooling_and_no_accumulation_options():
    x = torch.randn(1, 1, 128, 200)
    out = small(num_scales=1, final_pool="max")(x)
    assert torch.equal(out.clip, out.frame.amax(dim=2))
    out = small(num_scales=1, accumulation="none")(x)
    assert torch.equal(out.frame, out.pre_accumulation)
    assert torch.allclose(out.clip, out.frame.mean(dim=2))
    assert out.pre_accumulation.min() >= 0 and out.pre_accumulation.max() <= 1


def test_upscale_and_patching_frame_outputs():
    model = small(num_scales=2)
    x = torch.randn(1, 2, 128, 70)  # 70 frames -> 5 segments of 16
    segments = model(x).frame
    upscaled = model.frame_activations(x, "upscale")
    assert upscaled.shape == (1, 5, 70)
    assert torch.equal(upscaled[:, :, 16:32], segments[:, :, 1:2].expand(-1, -1, 16))
    patched = model.frame_activations(x, "patch")
    assert patched.shape == (1, 5, 70)
    # frame s * 16 + 0 comes from the unshifted input: the plain segment output
    assert torch.allclose(patched[:, :, ::16], segments, atol=1e-6)
    # frame s * 16 + 3 comes from the input shifted by 3 frames
    shifted = model(torch.nn.functional.pad(x[..., 3:], (0, 3))).frame
    assert torch.allclose(patched[:, :, 3::16], shifted, atol=1e-6)


def test_clip_bce_clips_probabilities_above_one():
    # a very narrow Gaussian makes values > 1; the loss stays finite
    loss = clip_bce(torch.tensor([[1.2, 0.0]]), torch.tensor([[1.0, 0.0]]))
    assert torch.isfinite(loss) and 0 < float(loss) < 1e-5  # both entries clipped to 1e-6 off
    assert float(clip_bce(torch.tensor([[0.5]]), torch.tensor([[1.0]]))) == pytest.approx(
        math.log(2)
    )
