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


def test_dataloader_workers_read_the_batches_of_the_main_process(tiny_world, tiny_cache):
    """Validation batches read by two forked DataLoader workers (each reopening the stores its
    dataset opened before the fork) equal the ones read in this process."""
    import torch

    here = _data(tiny_world, tiny_cache)
    workers = _data(tiny_world, tiny_cache, num_workers=2)
    here.val_set[0]  # the parent has open stores when the workers fork
    a, b = list(here.val_dataloader()), list(workers.val_dataloader())
    assert len(a) == len(b) == len(here.val_set) > 0
    for mine, theirs in zip(a, b, strict=True):
        assert mine["video_id"] == theirs["video_id"] and torch.equal(mine["x"], theirs["x"])
    assert torch.cat([m["x"] for m in a]).abs().max() > 1  # real flow, not zeros
