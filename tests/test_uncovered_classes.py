"""A sound teacher that does not cover a class (NaN column, e.g. Accordion for the MagnaTagATune
tagger) is stored, fused, evaluated and trained on without guessing a value for it."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ipd.errors import InputError
from ipd.evaluation.fusion import fuse
from ipd.evaluation.predictions import Prediction, load_prediction, save_prediction
from ipd.evaluation.sound import sound_frame_auc
from ipd.systems.video import ActionLocaliser

NAMES = ("Accordion", "Cello")
TIMES = np.arange(4) * 0.512


def _sound(scores):
    return Prediction("v", TIMES, NAMES, "tagger", scores=np.asarray(scores, dtype=np.float32))


def test_whole_nan_column_is_stored_but_holes_are_rejected(tmp_path):
    covered = _sound([[np.nan, 0.1], [np.nan, 0.9], [np.nan, 0.8], [np.nan, 0.2]])
    back = load_prediction(save_prediction(tmp_path / "v.npz", covered))
    assert np.isnan(back.scores[:, 0]).all() and back.scores[1, 1] == pytest.approx(0.9)
    with pytest.raises(InputError, match="NaN"):
        save_prediction(tmp_path / "w.npz", _sound([[np.nan, 0.1], [0.5, 0.9], [0, 0], [0, 0]]))
    maps = np.zeros((4, 2, 1, 1), np.float32)
    maps[:, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        save_prediction(tmp_path / "m.npz", Prediction("v", TIMES, NAMES, "obj", maps=maps))


def test_fusion_leaves_uncovered_classes_ungated():
    maps = np.full((4, 2, 1, 2), 0.5, np.float32)
    action = Prediction("v", TIMES, NAMES, "act", maps=maps)
    fused = fuse(action, _sound([[np.nan, 0.2]] * 4))
    np.testing.assert_allclose(fused.maps[:, 0], 0.5)  # Accordion x 1
    np.testing.assert_allclose(fused.maps[:, 1], 0.1)  # Cello x 0.2


def test_sound_auc_reports_uncovered_as_none():
    pred = _sound([[np.nan, 0.1], [np.nan, 0.9], [np.nan, 0.8], [np.nan, 0.2]])
    activity = {"v": [("Accordion", 0.0, 1.0), ("Cello", 0.5, 1.6)]}
    result = sound_frame_auc({"v": pred}, activity, NAMES)
    assert result.per_class == {"Accordion": None, "Cello": 1.0}
    assert result.mean == 1.0


class _Constant(nn.Module):
    """Logits that do not depend on the input: (N, 2, 1, 2) with known values."""

    def __init__(self):
        super().__init__()
        self.logits = nn.Parameter(torch.tensor([[[[0.0, 2.0]], [[-1.0, 1.0]]]]))

    def forward(self, x):
        return self.logits.expand(len(x), -1, -1, -1)


@pytest.mark.parametrize("target", ["ST", "SOT"])
def test_action_loss_masks_uncovered_classes(target):
    system = ActionLocaliser(_Constant(), target=target, num_classes=2)
    system.log = lambda *a, **k: None
    sound = torch.tensor([[[np.nan, 0.7], [np.nan, 0.2]]])  # (B=1, n=2, G=2)
    batch = {
        "x": torch.zeros(1, 2, 10, 4, 4),
        "tags": torch.tensor([[[1.0, 0.0], [1.0, 0.0]]]),
        "sound": sound,
        "objects": torch.ones(1, 2, 2, 1, 2),
    }
    loss = system.training_step(batch, 0)
    logits = system.net.logits.expand(2, -1, -1, -1)
    # Only Cello (class 1) counts: targets [1, 0] for the two frames (v = 0.5).
    cello_target = torch.tensor([1.0, 0.0])
    if target == "ST":
        expected = F.binary_cross_entropy_with_logits(logits[:, 1].amax(dim=(-2, -1)), cello_target)
    else:
        expected = F.binary_cross_entropy_with_logits(
            logits[:, 1], cello_target[:, None, None].expand(2, 1, 2)
        )
    assert torch.isfinite(loss)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
