"""Import of the authors' released state dicts: parity with the original forward pass, and errors.

The released files are not available here, so the tests build state dicts with exactly the released
names and shapes (random values) from independent re-implementations of the original ``Net``
classes, written as the original PyTorch 0.3 code runs them (4-D inputs, grouped convs, Caffe LRN).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from ipd.errors import InputError
from ipd.models.original import (
    load_original_action_object,
    load_original_sound,
    sound_from_original_state_dict,
    vgg_from_original_state_dict,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def cross_map_lrn(x: torch.Tensor, size=5, alpha=1e-4, beta=0.75, k=2.0) -> torch.Tensor:
    """Torch7 SpatialCrossMapLRN: x_c / (k + alpha / size * sum_{|c' - c| <= 2} x_c'^2)^beta."""
    squares = x.pow(2)
    out = torch.empty_like(x)
    half, channels = size // 2, x.shape[1]
    for c in range(channels):
        window = squares[:, max(0, c - half) : min(channels, c + half + 1)].sum(dim=1)
        out[:, c] = x[:, c] / (k + alpha / size * window).pow(beta)
    return out


class OriginalVGGNet(nn.Module):
    """The released action/object ``Net(num_labels, feat_dim)``."""

    def __init__(self, num_labels: int, feat_dim: int) -> None:
        super().__init__()
        self.dropout = nn.Dropout(p=0.5)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.conv1 = nn.Conv2d(feat_dim, 96, kernel_size=7, stride=2, padding=3)
        self.conv2 = nn.Conv2d(96, 256, kernel_size=5, stride=2, padding=2)
        self.conv3 = nn.Conv2d(256, 512, kernel_size=3, stride=1, padding=1)
        self.conv4 = nn.Conv2d(512, 512, kernel_size=3, stride=1, padding=1)
        self.conv5 = nn.Conv2d(512, 512, kernel_size=3, stride=1, padding=1)
        self.conv6 = nn.Conv2d(512, 2048, kernel_size=3, stride=1, padding=1)
        self.conv7 = nn.Conv2d(2048, 1024, kernel_size=1, stride=1, padding=0)
        self.conv8 = nn.Conv2d(1024, num_labels, kernel_size=1, stride=1, padding=0)
        for k in range(1, 9):  # the released initialisation, plus random biases for the test
            conv = getattr(self, f"conv{k}")
            nn.init.xavier_uniform_(conv.weight)
            nn.init.uniform_(conv.bias, -0.1, 0.1)

    def forward(self, x):
        x = self.pool(cross_map_lrn(F.relu(self.conv1(x))))
        x = self.pool(F.relu(self.conv2(x)))
        x = F.relu(self.conv3(x))
        x = F.relu(self.conv4(x))
        x = self.pool(F.relu(self.conv5(x)))
        x = self.dropout(F.relu(self.conv6(x)))
        x = self.dropout(F.relu(self.conv7(x)))
        x = torch.sigmoid(self.conv8(x))
        pooled_x = F.max_pool2d(x, kernel_size=x.size()[2:]).view(x.size()[:2])
        return x, pooled_x


class OriginalSoundNet(nn.Module):
    """The released sound ``Net``: scales stacked on channels, grouped convs, ``(b, 128, T, 1)``."""

    def __init__(self, num_labels: int = 9, feat_dim: int = 128, num_types: int = 3) -> None:
        super().__init__()
        self.pool = nn.MaxPool2d((4, 1), padding=(2, 0))
        self.dropout = nn.Dropout(p=0.5)
        self.conv1 = nn.Conv2d(
            feat_dim * num_types, 256 * num_types, (5, 1), padding=(2, 0), groups=num_types
        )
        self.bn1 = nn.BatchNorm2d(256 * num_types)
        self.conv2 = nn.Conv2d(
            256 * num_types, 256 * num_types, (5, 1), padding=(2, 0), groups=num_types
        )
        self.bn2 = nn.BatchNorm2d(256 * num_types)
        self.fconv1 = nn.Conv2d(256 * num_types, 512, kernel_size=1)
        self.fbn1 = nn.BatchNorm2d(512)
        self.fconv2 = nn.Conv2d(512, 512, kernel_size=1)
        self.fbn2 = nn.BatchNorm2d(512)
        self.fconv = nn.Conv2d(512, num_labels, kernel_size=1)
        for bn in (self.bn1, self.bn2, self.fbn1, self.fbn2):  # trained-looking statistics
            n = bn.num_features
            bn.weight.data.uniform_(0.5, 1.5)
            bn.bias.data.normal_(0.0, 0.2)
            bn.running_mean.normal_(0.0, 0.5)
            bn.running_var.uniform_(0.5, 3.0)
            bn.num_batches_tracked.fill_(1234 + n)

    def forward(self, x_list):
        x = torch.cat(x_list, dim=1)
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.pool(F.relu(self.bn2(self.conv2(x))))
        x = self.dropout(F.relu(self.fbn1(self.fconv1(x))))
        x = self.dropout(F.relu(self.fbn2(self.fconv2(x))))
        x = torch.sigmoid(self.fconv(x))
        x = x.view(x.size()[:3])
        pooled_x = F.avg_pool1d(x, kernel_size=x.size()[2]).view(x.size()[:2])
        return x, pooled_x


def _assert_parity(ours, theirs) -> None:
    assert ours[0].shape == theirs[0].shape
    assert theirs[0].std() > 0.02  # not saturated: the comparison means something
    torch.testing.assert_close(ours[0], theirs[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(ours[1], theirs[1], atol=1e-5, rtol=0)


@pytest.fixture(scope="module")
def action_net() -> OriginalVGGNet:
    torch.manual_seed(10)
    return OriginalVGGNet(num_labels=9, feat_dim=10).eval()


@pytest.fixture(scope="module")
def sound_net() -> OriginalSoundNet:
    torch.manual_seed(11)
    return OriginalSoundNet().eval()


@pytest.mark.parametrize("size", [(2, 64, 96), (1, 77, 51), (1, 33, 130)])
def test_action_parity(action_net, size) -> None:
    batch, height, width = size
    model = vgg_from_original_state_dict(action_net.state_dict(), in_channels=10)
    assert not model.training
    torch.manual_seed(12)
    flow = (torch.randn(batch, 10, height, width) * 40).clamp(-128, 127)
    with torch.no_grad():
        _assert_parity(model.predict(flow), action_net(flow))
    assert model.output_size(height, width) == tuple(action_net(flow)[0].shape[2:])


def test_object_parity_from_file(tmp_path) -> None:
    torch.manual_seed(13)
    net = OriginalVGGNet(num_labels=9, feat_dim=3).eval()
    path = tmp_path / "object.torch"
    torch.save({"state_dict.model": net.state_dict(), "state_dict.optimizer": {}}, path)
    model = load_original_action_object(path, in_channels=3)
    rgb = torch.rand(1, 3, 81, 144) * 255 - torch.tensor([123.51, 115.77, 102.72])[:, None, None]
    with torch.no_grad():
        _assert_parity(model.predict(rgb), net(rgb))


@pytest.mark.parametrize(("frames", "expected"), [(313, 20), (160, 11), (37, 3)])
def test_sound_parity(sound_net, frames, expected) -> None:
    model = sound_from_original_state_dict(sound_net.state_dict())
    torch.manual_seed(14)
    scales = [torch.randn(2, 128, frames) for _ in range(3)]
    with torch.no_grad():
        theirs = sound_net([x[..., None] for x in scales])  # (batch, 128, frames, 1) per scale
        ours = model.predict(scales)
    assert ours[0].shape == (2, 9, expected)
    _assert_parity(ours, theirs)
    assert torch.equal(model.early[1].bn2.num_batches_tracked, sound_net.bn2.num_batches_tracked)


@pytest.mark.parametrize("legacy", [False, True])
def test_sound_file_without_batch_counters(sound_net, tmp_path, legacy) -> None:
    """PyTorch 0.3 wrote no ``num_batches_tracked``; old (non-zip) serialization loads too."""
    state = {k: v for k, v in sound_net.state_dict().items() if "num_batches" not in k}
    path = tmp_path / "params.AudioSet.torch"
    torch.save(state, path, _use_new_zipfile_serialization=not legacy)
    model = load_original_sound(path)
    scales = [torch.randn(1, 128, 90) for _ in range(3)]
    with torch.no_grad():
        _assert_parity(model.predict(scales), sound_net([x[..., None] for x in scales]))


def _saved(tmp_path, state, name="model.torch"):
    path = tmp_path / name
    torch.save(state, path)
    return path


def test_mismatching_files_give_one_line_errors(action_net, sound_net, tmp_path) -> None:
    action = dict(action_net.state_dict())
    path = _saved(tmp_path, action, "action.torch")
    shape_error = r"action\.torch: 'conv1.weight' has shape \(96, 10, 7, 7\), expected "
    with pytest.raises(InputError, match=shape_error + r"\(96, 3, 7, 7\)"):
        load_original_action_object(path, in_channels=3)
    with pytest.raises(InputError, match=shape_error + r"\(768, 128, 5, 1\)"):
        load_original_sound(path)
    no_stats = {k: v for k, v in sound_net.state_dict().items() if k != "fbn1.running_var"}
    with pytest.raises(InputError, match=r"missing key 'fbn1.running_var'"):
        load_original_sound(_saved(tmp_path, no_stats))

    missing = {k: v for k, v in action.items() if k != "conv7.bias"}
    with pytest.raises(InputError, match=r"missing key 'conv7.bias'"):
        load_original_action_object(_saved(tmp_path, missing), in_channels=10)
    extra = {**action, "lrn1.scale": torch.ones(1)}
    with pytest.raises(InputError, match=r"unexpected key 'lrn1.scale'"):
        load_original_action_object(_saved(tmp_path, extra), in_channels=10)
    sound = {**sound_net.state_dict(), "fconv.bias": torch.zeros(188)}
    with pytest.raises(InputError, match=r"'fconv.bias' has shape \(188,\), expected \(9,\)"):
        load_original_sound(_saved(tmp_path, sound))
