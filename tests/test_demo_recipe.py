"""The demo recipe: VGGFCN's optional batch-norm knob and the demo configs that use it."""

from pathlib import Path

import pytest
import torch
import yaml

from ipd.models.vgg_fcn import PAPER_CHANNELS, VGGFCN

ROOT = Path(__file__).resolve().parents[1]


def test_batch_norm_off_keeps_the_paper_modules():
    keys = list(VGGFCN(width=0.25).state_dict())
    assert len(keys) == 16  # conv1 ... conv8, weight + bias each
    assert not any("bn" in k for k in keys)


def test_batch_norm_on_adds_one_norm_after_conv1_to_conv7():
    net = VGGFCN(width=0.25, batch_norm=True)
    norms = {n: m for n, m in net.named_modules() if isinstance(m, torch.nn.BatchNorm2d)}
    assert list(norms) == [f"features.bn{i}" for i in range(1, 6)] + ["head.bn6", "head.bn7"]
    assert [m.num_features for m in norms.values()] == [round(c / 4) for c in PAPER_CHANNELS]
    # Each norm sits between its conv and its ReLU.
    names = [n for n, _ in net.features.named_children()]
    assert names[:3] == ["conv1", "bn1", "relu1"]
    assert net.output_size(144, 256) == (5, 8)
    assert net(torch.zeros(2, 3, 144, 256)).shape == (2, 9, 5, 8)


def test_batch_norm_normalises_conv1_in_training():
    torch.manual_seed(0)
    net = VGGFCN(width=0.25, batch_norm=True).train()
    x = 100.0 * torch.randn(4, 3, 64, 64)
    out = net.features.bn1(net.features.conv1(x))
    assert out.mean().abs().item() < 1e-5
    assert out.var(dim=(0, 2, 3), unbiased=False).mean().item() == pytest.approx(1.0, abs=1e-3)


def test_demo_object_config_sizes_match():
    config = yaml.safe_load((ROOT / "configs/demo/object.yaml").read_text())
    assert config["data"]["stream"] == "rgb"
    assert config["model"]["net"]["init_args"]["in_channels"] == 3
