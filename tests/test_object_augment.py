"""The object model's training augmentation (``ObjectLocaliser(shift=...)``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ipd.models.vgg_fcn import VGGFCN
from ipd.systems.video import ObjectLocaliser


def _system(shift: int) -> ObjectLocaliser:
    return ObjectLocaliser(VGGFCN(3, 9, width=0.125), shift=shift)


def test_no_shift_leaves_the_batch_alone():
    x = torch.randn(2, 3, 16, 24)
    assert _system(0).augment(x) is x


def test_shift_is_one_reflected_window_and_maybe_a_mirror_per_batch():
    x = torch.arange(2 * 3 * 16 * 24, dtype=torch.float32).reshape(2, 3, 16, 24)
    padded = F.pad(x, (4, 4, 4, 4), mode="reflect")
    windows = [
        padded[..., i : i + 16, j : j + 24] for i in range(9) for j in range(9)
    ]  # every offset of up to 4 px
    seen_offsets, seen_flips = set(), set()
    torch.manual_seed(0)
    for _ in range(40):
        out = _system(4).augment(x)
        assert out.shape == x.shape
        matches = [
            (k, flip)
            for k, w in enumerate(windows)
            for flip in (False, True)
            if torch.equal(out, w.flip(-1) if flip else w)
        ]
        assert matches, "not a window of the reflected batch"
        seen_offsets.add(matches[0][0])
        seen_flips.add(matches[0][1])
        # The whole batch moves together: both frames share one offset.
        assert torch.equal(out[1] - out[0], torch.full_like(out[0], x[1, 0, 0, 0].item()))
    assert len(seen_offsets) > 10 and seen_flips == {False, True}
