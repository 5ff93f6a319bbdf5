"""Chapter-4 networks: output sizes and geometry, widths, gradients, dropout, freezing, loading."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from ipd.errors import InputError
from ipd.models import VGGFCN, SoundFCN
from ipd.models.layers import LocalResponseNorm

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _scales(batch: int, frames: int, num_scales: int = 3, n_mels: int = 128) -> list[torch.Tensor]:
    return [torch.randn(batch, n_mels, frames) for _ in range(num_scales)]


# --- SoundFCN -----------------------------------------------------------------------------------

# T -> after pool 1 -> after pool 2, each pool floor(n / 4) + 1, computed by hand
SOUND_LENGTHS = [(313, 79, 20), (160, 41, 11), (64, 17, 5), (17, 5, 2), (15, 4, 2), (11, 3, 1)]


@pytest.mark.parametrize(("frames", "after_pool1", "after_pool2"), SOUND_LENGTHS)
def test_sound_output_length(frames: int, after_pool1: int, after_pool2: int) -> None:
    torch.manual_seed(0)
    model = SoundFCN(num_classes=4, width=1 / 16).eval()
    x = _scales(2, frames)
    with torch.no_grad():
        assert model.early[0][:4](x[0]).shape == (2, 16, after_pool1)  # conv1, bn1, relu1, pool1
        assert model.forward_features(x).shape == (2, 48, after_pool2)
        logits = model(x)
    assert logits.shape == (2, 4, after_pool2)
    assert model.output_length(frames) == after_pool2


def test_sound_geometry_and_receptive_field() -> None:
    """Output k sees mel frames 16k-20 ... 16k+15 (36 frames centred on 16k - 2.5), no others."""
    assert (model_geometry := SoundFCN(width=1 / 16).geometry).stride == 16
    assert model_geometry.receptive_field == 36 and model_geometry.offset == -2.5
    torch.manual_seed(1)
    model = SoundFCN(num_classes=3, width=1 / 16).eval()
    x = _scales(1, 160)
    k = 5  # mel frames 60 ... 95
    with torch.no_grad():
        base = model(x)[0, :, k]

        def changed(frame: int) -> bool:
            bumped = [s.clone() for s in x]
            for s in bumped:
                s[:, :, frame] += 100.0
            return not torch.allclose(model(bumped)[0, :, k], base)

        assert changed(60) and changed(95) and changed(78)
        assert not changed(59) and not changed(96)


def test_sound_paper_widths_and_width_multiplier() -> None:
    paper = SoundFCN()
    assert paper.early[2].conv1.weight.shape == (256, 128, 5)
    assert paper.early[0].conv2.weight.shape == (256, 256, 5)
    assert paper.head.conv3.weight.shape == (512, 768, 1)
    assert paper.head.conv5.weight.shape == (9, 512, 1)
    with torch.no_grad():
        assert paper.eval()(_scales(1, 40)).shape == (1, 9, 3)  # 40 -> 11 -> 3
    small = SoundFCN(num_classes=5, num_scales=2, width=0.1)
    assert (small.early_channels, small.late_channels) == (26, 51)  # round(25.6), round(51.2)
    assert len(small.early) == 2
    assert small.early[1].conv1.weight.shape == (26, 128, 5)
    assert small.head.conv3.weight.shape == (51, 52, 1)
    assert small.head.conv5.weight.shape == (5, 51, 1)


def test_sound_predict_and_clip_is_time_mean() -> None:
    frames = torch.tensor([[[0.2, 0.4, 0.9], [0.0, 1.0, 0.5]]])
    assert torch.allclose(SoundFCN.clip_output(frames), torch.tensor([[0.5, 0.5]]))
    torch.manual_seed(2)
    model = SoundFCN(num_classes=4, width=1 / 16).eval()
    x = _scales(2, 50)
    with torch.no_grad():
        probs, clip = model.predict(x)
        assert torch.allclose(probs, torch.sigmoid(model(x)))
    assert torch.allclose(clip, probs.mean(dim=2))
    stacked = torch.stack(x, dim=1)  # (batch, scales, n_mels, T) is accepted too
    with torch.no_grad():
        assert torch.equal(model(stacked), model(x))
    with pytest.raises(ValueError, match="expected 3 input scales"):
        model(x[:2])


def test_sound_gradients_and_dropout() -> None:
    torch.manual_seed(3)
    model = SoundFCN(num_classes=4, width=1 / 16)
    x = _scales(3, 48)
    target = torch.tensor([[1.0, 0, 0, 1], [0, 1, 0, 0], [1, 1, 1, 0]])
    _, clip = model.predict(x)
    F.binary_cross_entropy(clip, target).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x), model(x))
        model.train()
        assert not torch.equal(model(x), model(x))  # dropout is active in training only


# --- VGGFCN -------------------------------------------------------------------------------------

# (H, W) -> (h, w) by hand: ceil(H / 32) with conv6 pad 1, ceil(H / 32) - 2 with pad 0
VGG_SIZES = [
    ((144, 256), (5, 8), (3, 6)),
    ((256, 144), (8, 5), (6, 3)),  # portrait
    ((97, 191), (4, 6), (2, 4)),
    ((65, 33), (3, 2), (1, 0)),
    ((31, 32), (1, 1), (0, 0)),
    ((1, 1), (1, 1), (0, 0)),
]


@pytest.mark.parametrize(("size", "pad1", "pad0"), VGG_SIZES)
def test_vgg_output_size_matches_forward(size, pad1, pad0) -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 10, *size)
    for padding, expected in ((1, pad1), (0, pad0)):
        model = VGGFCN(in_channels=10, num_classes=4, width=1 / 32, conv6_padding=padding).eval()
        assert model.output_size(*size) == expected
        if min(expected) > 0:
            with torch.no_grad():
                assert model(x).shape == (2, 4, *expected)


def test_vgg_geometry_and_receptive_field() -> None:
    """Cell i is centred on pixel 32 i and sees pixels 32 i - 117 ... 32 i + 117 (235 px)."""
    assert VGGFCN(width=1 / 32).geometry.stride == 32
    assert VGGFCN(width=1 / 32).geometry.receptive_field == 235
    assert VGGFCN(width=1 / 32).geometry.offset == 0
    assert VGGFCN(width=1 / 32, conv6_padding=0).geometry.offset == 32
    torch.manual_seed(4)
    model = VGGFCN(in_channels=3, num_classes=3, width=1 / 16).eval()
    x = torch.randn(1, 3, 320, 40) * 20
    i = 5  # rows 43 ... 277
    with torch.no_grad():
        base = model(x)[0, :, i, 0]

        def changed(row: int) -> bool:
            bumped = x.clone()
            bumped[:, :, row] += torch.randn(3, 40) * 200
            return not torch.allclose(model(bumped)[0, :, i, 0], base)

        assert changed(43) and changed(277) and changed(160)
        assert not changed(42) and not changed(278)


def test_vgg_widths() -> None:
    paper = VGGFCN(in_channels=10)
    assert paper.channels == (96, 256, 512, 512, 512, 2048, 1024)
    assert paper.features.conv1.weight.shape == (96, 10, 7, 7)
    assert paper.head.conv6.weight.shape == (2048, 512, 3, 3)
    assert paper.head.conv8.weight.shape == (9, 1024, 1, 1)
    with torch.no_grad():
        assert paper.eval()(torch.randn(1, 10, 64, 96)).shape == (1, 9, 2, 3)
    quarter = VGGFCN(in_channels=3, width=0.25)
    assert quarter.channels == (24, 64, 128, 128, 128, 512, 256)
    assert quarter.features.conv2.weight.shape == (64, 24, 5, 5)
    assert quarter.head.conv7.weight.shape == (256, 512, 1, 1)
    custom = VGGFCN(num_classes=2, channels=(8, 8, 16, 16, 16, 32, 16), width=0.5)
    assert custom.channels == (4, 4, 8, 8, 8, 16, 8)
    assert custom.head.conv8.weight.shape == (2, 8, 1, 1)


def test_vgg_predict_clip_is_global_max_and_prior() -> None:
    maps = torch.tensor([[[[0.1, 0.7], [0.3, 0.2]], [[0.0, 0.0], [0.05, 0.01]]]])
    assert torch.allclose(VGGFCN.clip_output(maps), torch.tensor([[0.7, 0.05]]))
    torch.manual_seed(5)
    model = VGGFCN(in_channels=3, num_classes=4, output_prior=0.1).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        probs, clip = model.predict(x)
        logits = model(x)
    assert torch.allclose(probs, torch.sigmoid(logits))
    assert torch.allclose(clip, torch.sigmoid(VGGFCN.clip_output(logits)))
    assert abs(probs.mean().item() - 0.1) < 0.02  # bias = logit(0.1), small initial weights


def test_vgg_gradients_dropout_and_freezing() -> None:
    torch.manual_seed(6)
    model = VGGFCN(in_channels=10, num_classes=4, width=1 / 16)
    x = torch.randn(2, 10, 70, 90) * 10
    target = torch.tensor([[1.0, 0, 0, 1], [0, 1, 0, 0]])
    loss = F.binary_cross_entropy_with_logits(VGGFCN.clip_output(model(x)), target)
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x), model(x))
        model.train()
        assert not torch.equal(model(x), model(x))

    model.zero_grad(set_to_none=True)
    assert len(list(model.early_parameters())) == 10 and len(list(model.late_parameters())) == 6
    model.set_early_trainable(False)
    F.binary_cross_entropy_with_logits(VGGFCN.clip_output(model(x)), target).backward()
    assert all(p.grad is None for p in model.early_parameters())
    assert all(p.grad is not None for p in model.late_parameters())
    model.set_early_trainable(True)
    assert all(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize("size", [5, 4, 3])
def test_local_response_norm_matches_torch(size: int) -> None:
    """Same outputs as torch's LRN (bit for bit for size 5), same gradient (float64), also for
    even windows (asymmetric: 2 channels before, 1 after for size 4) and channels-last input."""
    torch.manual_seed(size)
    ours = LocalResponseNorm(size, alpha=1e-2, beta=0.75, k=2.0)
    theirs = torch.nn.LocalResponseNorm(size, alpha=1e-2, beta=0.75, k=2.0)
    x = torch.randn(3, 7, 5, 6) * 30
    nhwc = x.contiguous(memory_format=torch.channels_last)
    for y in (ours(x), ours(nhwc)):
        if size == 5:  # the paper's window: the same sums in the same order
            assert torch.equal(y, theirs(x))
        torch.testing.assert_close(y, theirs(x), rtol=1e-6, atol=0)

    x64 = x.double().requires_grad_()
    grad = torch.randn_like(x64)
    (ours_grad,) = torch.autograd.grad(ours(x64), x64, grad)
    (their_grad,) = torch.autograd.grad(theirs(x64), x64, grad)
    assert torch.allclose(ours_grad, their_grad, rtol=1e-12, atol=1e-14)
    assert torch.autograd.gradcheck(ours, (x64[:1, :, :2, :2].detach().requires_grad_(),))


def test_local_response_norm_by_hand() -> None:
    """One pixel, channels (1, 2, 3), size 3, alpha 3, beta 1, k 1: channel c is divided by
    1 + (sum of squares of channels c-1 .. c+1): 1 / 6, 2 / 15, 3 / 14."""
    x = torch.tensor([1.0, 2.0, 3.0]).view(1, 3, 1, 1)
    y = LocalResponseNorm(3, alpha=3.0, beta=1.0, k=1.0)(x)
    assert torch.allclose(y.flatten(), torch.tensor([1 / 6, 2 / 15, 3 / 14]))


def test_vgg_load_early_weights(tmp_path) -> None:
    torch.manual_seed(7)
    donor = VGGFCN(in_channels=3, num_classes=4, width=1 / 16)
    path = tmp_path / "early.pt"
    state = {k: v for k, v in donor.state_dict().items() if k.startswith("features.")}
    state = {k.removeprefix("features."): v for k, v in state.items()}
    state["fc6.weight"] = torch.zeros(3)  # foreign keys are ignored and reported
    torch.save(state, path)

    model = VGGFCN(in_channels=3, num_classes=5, width=1 / 16, pretrained_early=path)
    for key, value in donor.features.state_dict().items():
        assert torch.equal(model.features.state_dict()[key], value)
    assert not torch.equal(model.head.conv6.weight, donor.head.conv6.weight)
    assert VGGFCN(in_channels=3, width=1 / 16).load_early_weights(path) == ["fc6.weight"]

    with pytest.raises(InputError, match=r"early\.pt: 'conv1.weight' has shape \(6, 3, 7, 7\)"):
        VGGFCN(in_channels=10, width=1 / 16, pretrained_early=path)
    del state["conv4.bias"]
    torch.save(state, path)
    with pytest.raises(InputError, match=r"early\.pt: missing key 'conv4.bias'"):
        VGGFCN(in_channels=3, width=1 / 16).load_early_weights(path)
