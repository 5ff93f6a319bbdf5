"""Training and validation samples of the frame stages (FrameData / FrameClips)."""

from __future__ import annotations

import pytest

from ipd.data.datamodules import FrameData
from ipd.data.index import read_index
from tests.conftest import TINY_SIZE


def _data(tiny_world, tiny_cache, **kwargs) -> FrameData:
    data = FrameData(
        str(tiny_world), str(tiny_cache), stream="flow", size=TINY_SIZE, clip_frames=2, **kwargs
    )
    data.setup()
    return data


def test_clips_per_video_draws_that_many_random_subclips_per_epoch(tiny_world, tiny_cache):
    videos = len(read_index(tiny_world, "train"))
    once = _data(tiny_world, tiny_cache)
    thrice = _data(tiny_world, tiny_cache, clips_per_video=3, clips_per_batch=4)
    assert len(once.train_set) == videos
    assert len(thrice.train_set) == 3 * videos
    # Validation is unchanged: every 2-frame sub-clip of every val video, once.
    assert len(thrice.val_set) == len(once.val_set)
    starts = {thrice.train_set[i]["start"] for i in range(3)}  # video 0, three random draws
    assert starts <= set(thrice.train_set.videos[0][1])
    batch = next(iter(thrice.train_dataloader()))
    assert tuple(batch["x"].shape) == (4, 2, 10, 72, 128)


def test_clips_per_video_must_be_positive(tiny_world, tiny_cache):
    with pytest.raises(ValueError, match="clips_per_video"):
        _data(tiny_world, tiny_cache, clips_per_video=0)


def test_features_kept_in_memory_give_the_same_batches(tiny_world, tiny_cache):
    """Decoded features kept across epochs (the default) change no value of any batch."""
    import torch

    kept = _data(tiny_world, tiny_cache, clips_per_batch=2)
    read = _data(tiny_world, tiny_cache, clips_per_batch=2, memory_mb=0)
    assert kept.train_set._decoded is not None and read.train_set._decoded is None
    for epoch in range(2):
        for data in (kept, read):
            torch.manual_seed(epoch)
            data.batches = list(data.train_dataloader())
        assert len(kept.batches) == len(read.batches) > 0
        for a, b in zip(kept.batches, read.batches, strict=True):
            assert a["video_id"] == b["video_id"] and torch.equal(a["x"], b["x"])
    assert len(kept.train_set._decoded) > 0
    with pytest.raises(ValueError, match="memory_mb"):
        _data(tiny_world, tiny_cache, memory_mb=-1)
