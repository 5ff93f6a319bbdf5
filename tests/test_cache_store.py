"""The feature store: random access by chunk, exact flow values, fsspec URLs, parameter keys,
resume, atomic writes, stale temporary stores."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest
import zarr
from test_features_media import index_frames, texture, tone, write_video
from zarr.storage import LocalStore

from ipd.features import cache, flow
from ipd.features.batch import extract_many
from ipd.features.extract import extract_video
from ipd.features.params import ExtractParams
from ipd.features.reader import open_features


@pytest.fixture(scope="module")
def cached(tmp_path_factory):
    """One 3-s video (moving texture, tone) extracted with the default parameters."""
    root = tmp_path_factory.mktemp("cached")
    base = texture(48, 64)
    frames = [np.repeat(np.roll(base, i, axis=1)[..., None], 3, axis=2) for i in range(75)]
    path = write_video(root / "clip.mkv", np.stack(frames), 25, audio=tone(3.0))
    extract_video(path, "clip", root / "cache")
    return root / "cache", path


def test_random_access_equals_the_full_read(cached):
    cache_dir, _ = cached
    with open_features(cache_dir, "clip") as feats:
        assert feats.num_frames == 6  # 3 s
        rgb, flow = feats.rgb(), feats.flow()
        mel = feats.logmel_all(2048)
        np.testing.assert_array_equal(feats.rgb(2, 5), rgb[2:5])
        np.testing.assert_array_equal(feats.flow(1, 4), flow[1:4])
        np.testing.assert_array_equal(feats.flow(5, 6), flow[5:6])
        np.testing.assert_array_equal(feats.logmel(2048, 2, 4), mel[32:64])
        assert feats.logmel(2048, 5).shape == (94 - 80, 128)  # 1 + 48000 // 512 = 94 frames
        assert feats.rgb(3, 3).shape == (0, 192, 256, 3)
        with pytest.raises(IndexError):
            feats.rgb(4, 2)
    assert np.abs(flow).max() > 1  # the texture moves: not an all-zero cache


def test_a_sub_clip_reads_only_its_chunks(cached, monkeypatch):
    """Flow stacks 2, 3 need members 8 .. 16: chunks 2, 3 and 4 (four members each) of the
    shard, read as byte ranges after the shard's index, nothing else."""
    cache_dir, _ = cached
    read = []
    original = LocalStore.get

    async def spy(self, key, prototype=None, byte_range=None):
        read.append((key, byte_range))
        return await original(self, key, prototype, byte_range)

    with open_features(cache_dir, "clip", streams=("flow",)) as feats:
        feats.flow(0, 1)  # opens the array
        monkeypatch.setattr(LocalStore, "get", spy)
        read.clear()
        feats.flow(2, 4)
    assert {key for key, _ in read} == {"flow/c/0/0/0/0"}  # the one shard file of 25 members
    index, *chunks = [r for _, r in read]
    assert index.suffix == 16 * cache.SHARD_CHUNKS + 4  # (offset, length) per chunk, checksum
    shard = cache.feature_path(cache_dir, "flow", "clip", ExtractParams()) / "flow/c/0/0/0/0"
    entries = np.frombuffer(shard.read_bytes()[-index.suffix : -4], "<u8").reshape(-1, 2)
    wanted = {(int(offset), int(offset + size)) for offset, size in entries[2:5]}
    assert {(r.start, r.end) for r in chunks} == wanted


def test_flow_counts_give_the_stored_float16_back_exactly():
    """Every rounded flow value, up to the clip at 127 px where float16 steps are 1/16 px,
    survives the int16 counts of 1/64 px; 33.3 px is a value float16 cannot hold at 1/64."""
    raw = np.array([[-128.0, -33.3, -0.5078125, 0.0, 1 / 64, 31.99, 33.3, 100.01, 127.0]] * 2)
    members = flow.round_member(raw.astype(np.float32))
    counts = flow.to_counts(members)
    assert counts.dtype == np.int16 and counts[0, 0] == -8192 and counts[0, -1] == 8128
    back = flow.from_counts(counts.astype(np.float32))
    np.testing.assert_array_equal(back, members.astype(np.float32))
    assert members[0, 6] != np.float32(np.round(33.3 * 64) / 64)  # float16 rounded it further


def test_a_store_at_an_fsspec_url_reads_as_the_local_one(cached):
    """Extraction into ``memory://`` (an fsspec file system, as s3:// would be) writes the same
    arrays and meta; listing, freshness and reading go through the URL."""
    cache_dir, path = cached
    url = "memory://ipd-test/cache"
    extract_video(path, "clip", url)
    assert cache.list_cached(url, "flow", ExtractParams()) == ["clip"]
    assert cache.is_fresh(cache.feature_path(url, "rgb", "clip", ExtractParams()), path)
    with open_features(url, "clip") as remote, open_features(cache_dir, "clip") as local:
        np.testing.assert_array_equal(remote.flow(1, 4), local.flow(1, 4))
        np.testing.assert_array_equal(remote.rgb(), local.rgb())
        np.testing.assert_array_equal(remote.logmel_all(512), local.logmel_all(512))
        assert remote.meta == local.meta


def test_a_reader_pickles_and_reopens(cached):
    """DataLoader workers get the dataset pickled (spawn) or forked: the reader reopens."""
    cache_dir, _ = cached
    with open_features(cache_dir, "clip") as feats:
        expected = feats.flow(1, 3)
        again = pickle.loads(pickle.dumps(feats))
    np.testing.assert_array_equal(again.flow(1, 3), expected)


def test_meta_records_times_parameters_and_source(cached):
    cache_dir, path = cached
    with open_features(cache_dir, "clip") as feats:
        rgb, flow, audio = feats.meta["rgb"], feats.meta["flow"], feats.meta["audio"]
    assert rgb["times"] == pytest.approx([0, 0.512, 1.024, 1.536, 2.048, 2.56])
    assert rgb["source_index"] == [0, 12, 25, 38, 51, 64]
    assert flow["num_members"] == 25 and flow["params"]["algorithm"] == "farneback"
    assert flow["params"]["algorithm_params"]["winsize"] == 15
    assert audio["num_mel_frames"] == 94 and audio["windows"] == [512, 2048, 8192]
    stat = path.stat()
    assert rgb["source"] == {"file": "clip.mkv", "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def test_each_stream_is_keyed_by_its_own_parameters(tmp_path):
    base, dis = ExtractParams(), ExtractParams(flow="dis")
    small, ch3 = ExtractParams(size=128), ExtractParams(windows=(512, 1024, 2048, 4096))
    assert base.stream_key("flow") != dis.stream_key("flow")
    assert base.stream_key("rgb") == dis.stream_key("rgb")
    assert base.stream_key("audio") == dis.stream_key("audio") == small.stream_key("audio")
    assert base.stream_key("rgb") != small.stream_key("rgb")
    assert base.stream_key("flow") != small.stream_key("flow")
    assert base.stream_key("audio") != ch3.stream_key("audio")
    assert base.stream_key("flow") == ExtractParams().stream_key("flow")  # stable
    folder = cache.stream_dir(tmp_path, "flow", dis)
    assert folder.name == dis.stream_key("flow") and folder.name.startswith("flow-")
    assert json.loads((folder / "params.json").read_text()) == dis.stream_params("flow")


def test_other_parameters_never_serve_stale_features(cached):
    cache_dir, _ = cached
    with pytest.raises(Exception, match="no flow features for clip"):
        open_features(cache_dir, "clip", ("flow",), ExtractParams(flow="dis"))
    assert cache.list_cached(cache_dir, "flow", ExtractParams()) == ["clip"]
    assert cache.list_cached(cache_dir, "flow", ExtractParams(flow="dis")) == []


def test_rerun_skips_finished_videos_and_redoes_changed_ones(tmp_path):
    paths = [write_video(tmp_path / f"v{i}.mp4", index_frames(12), 10) for i in range(2)]
    items = [(p.stem, p) for p in paths]
    first = extract_many(items, tmp_path / "c", streams=("rgb",), progress=False)
    assert sorted(first.done) == ["v0", "v1"] and first.cached == []
    stores = {
        p.stem: cache.feature_path(tmp_path / "c", "rgb", p.stem, ExtractParams()) / "zarr.json"
        for p in paths
    }
    stamps = {k: z.stat().st_mtime_ns for k, z in stores.items()}
    second = extract_many(items, tmp_path / "c", streams=("rgb",), progress=False)
    assert second.done == [] and sorted(second.cached) == ["v0", "v1"]
    assert {k: z.stat().st_mtime_ns for k, z in stores.items()} == stamps  # untouched
    os.utime(paths[1], ns=(1, 1))  # the source changed: its features are stale
    third = extract_many(items, tmp_path / "c", streams=("rgb",), progress=False)
    assert third.done == ["v1"] and third.cached == ["v0"]


def _files(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_a_failed_write_leaves_no_store_and_keeps_the_old_one(tmp_path):
    target = tmp_path / "s" / "vid.zarr"
    with pytest.raises(RuntimeError), cache.StoreWriter(target) as writer:
        writer.rows("a", (3,), np.float32, 1).append(np.zeros((40, 3)))  # two shards written
        writer.meta = {"n": 40}
        assert writer._target.is_dir() and not target.exists()
        raise RuntimeError("killed")
    assert list((tmp_path / "s").iterdir()) == []
    with cache.StoreWriter(target) as writer:
        writer.rows("a", (3,), np.float32, 1).append(np.ones((5, 3)))
        writer.meta = {"n": 5}
    with pytest.raises(RuntimeError), cache.StoreWriter(target) as writer:  # a forced rerun
        writer.rows("a", (3,), np.float32, 1).append(np.zeros((40, 3)))
        raise RuntimeError("killed")
    reader = cache.StoreReader(target)
    assert reader.meta == {"n": 5}
    np.testing.assert_array_equal(reader.rows("a", 0, 9), np.ones((5, 3)))
    assert [p.name for p in (tmp_path / "s").iterdir()] == ["vid.zarr"]


def test_a_store_without_its_marker_is_not_read(tmp_path):
    """Written in place (as on object stores) but stopped before the marker: not valid."""
    target = tmp_path / "vid.zarr"
    group = zarr.create_group(LocalStore(target), zarr_format=3)
    group.create_array("rgb", shape=(2, 4, 4, 3), dtype=np.uint8)
    assert cache.read_meta(target) is None and not cache.is_fresh(target)
    with pytest.raises(FileNotFoundError, match="no complete feature store"):
        cache.StoreReader(target)


def test_rows_are_written_one_whole_shard_at_a_time(tmp_path):
    """Appends of any size buffer until a shard (16 chunks) is full: 16 + 16 + 5 rows of
    chunk 1 are three shard files, each written once."""
    with cache.StoreWriter(tmp_path / "v.zarr") as writer:
        rows = writer.rows("x", (2,), np.int16, 1)
        writes = []
        for n in (3, 10, 7, 12, 5):
            rows.append(np.full((n, 2), n, np.int16))
            writes.append(rows.array.shape[0])
        writer.meta = {}
    assert writes == [0, 0, 16, 32, 32]  # whole shards while appending; the rest at the end
    reader = cache.StoreReader(tmp_path / "v.zarr")
    values = reader.rows("x", 0, 100)[:, 0]
    assert values.tolist() == [3] * 3 + [10] * 10 + [7] * 7 + [12] * 12 + [5] * 5
    assert sorted(p.name for p in (tmp_path / "v.zarr" / "x" / "c").iterdir()) == ["0", "1", "2"]


def test_extraction_failing_midway_leaves_no_partial_store(tmp_path, monkeypatch):
    path = write_video(tmp_path / "v.mp4", index_frames(30), 10)
    calls = []

    def broken(gray0, gray1):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("flow crashed")
        return np.zeros((*gray0.shape, 2), dtype=np.float32)

    monkeypatch.setattr("ipd.features.flow.flow_function", lambda algorithm: broken)
    with pytest.raises(RuntimeError, match="flow crashed"):
        extract_video(path, "v", tmp_path / "c", streams=("rgb", "flow"))
    leftovers = [p.name for p in (tmp_path / "c").rglob("*") if p.suffix in (".zarr", ".tmp")]
    assert leftovers == []
    assert cache.list_cached(tmp_path / "c", "flow", ExtractParams()) == []


def test_stale_temp_stores_of_dead_processes_are_removed(tmp_path):
    dead = tmp_path / ".vid.zarr.999999999.tmp"  # beyond any pid limit: no such process
    mine = tmp_path / f".other.zarr.{os.getpid()}.tmp"
    note = tmp_path / ".params.json.999999999.tmp"
    for folder in (dead, mine):
        (folder / "rgb").mkdir(parents=True)
        (folder / "zarr.json").write_text("{}")
    note.write_text("{")
    assert sorted(cache.remove_stale_temps(tmp_path)) == sorted([dead, note])
    assert not dead.exists() and not note.exists() and mine.exists()


def test_same_input_gives_byte_identical_stores(tmp_path):
    path = write_video(tmp_path / "v.mkv", index_frames(15), 10, audio=tone(1.5))
    for name in ("a", "b"):
        extract_video(path, "v", tmp_path / name)
    for stream in ("audio", "rgb", "flow"):
        a = cache.feature_path(tmp_path / "a", stream, "v", ExtractParams())
        b = cache.feature_path(tmp_path / "b", stream, "v", ExtractParams())
        assert _files(a) == _files(b) and len(_files(a)) >= 2
        assert [(a / f).read_bytes() for f in _files(a)] == [
            (b / f).read_bytes() for f in _files(b)
        ]
