"""The feature cache: random access, parameter keys, resume, atomic writes, stale temp files."""

from __future__ import annotations

import json
import os
import pickle
import zipfile

import numpy as np
import pytest
from test_features_media import index_frames, texture, tone, write_video

from ipd.features import cache, memory
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


def test_a_sub_clip_reads_only_its_members(cached, monkeypatch):
    cache_dir, _ = cached
    read = []
    original = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        read.append(getattr(name, "filename", name))
        return original(self, name, *args, **kwargs)

    with open_features(cache_dir, "clip", streams=("flow",)) as feats:
        monkeypatch.setattr(zipfile.ZipFile, "open", spy)
        feats.flow(2, 4)
    assert read == [f"flow/{i:06d}.npy" for i in range(8, 17)]  # flows 6 .. 14


def test_decoded_members_are_read_once_and_equal(cached, monkeypatch):
    """With a memory store, a second read of the same frames decodes nothing and returns the
    same values; the kept arrays are read-only."""
    cache_dir, _ = cached
    with open_features(cache_dir, "clip") as plain:
        expected_flow, expected_rgb = plain.flow(1, 3), plain.rgb(1, 3)
    decoded = memory.DecodedMembers(max_bytes=2**30)
    read = []
    original = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        read.append(getattr(name, "filename", name))
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    for _ in range(2):
        with open_features(cache_dir, "clip", decoded=decoded) as feats:
            np.testing.assert_array_equal(feats.flow(1, 3), expected_flow)
            np.testing.assert_array_equal(feats.rgb(1, 3), expected_rgb)
    flows = [f"flow/{i:06d}.npy" for i in range(4, 13)]
    assert [n for n in read if n.startswith(("flow/", "rgb/"))] == [*flows, "rgb/000001.png",
                                                                      "rgb/000002.png"]  # fmt: skip
    assert len(decoded) == 11
    assert decoded.nbytes == 9 * 2 * 192 * 256 * 2 + 2 * 192 * 256 * 3  # float16 flow, uint8 RGB
    kept = decoded.get((str(feats._readers["flow"].path), flows[0]), lambda: None)
    assert not kept.flags.writeable


def test_decoded_members_fill_maps_and_drop_the_oldest(monkeypatch):
    """Kept arrays fill 256-byte maps at 64-byte offsets; a budget of two maps drops the oldest
    map (and every array in it) when a third is needed; values survive the copy."""
    monkeypatch.setattr(memory, "CHUNK", 256)
    decoded = memory.DecodedMembers(max_bytes=512)
    calls = []

    def make(name: str, size: int = 100):
        def decode():
            calls.append(name)
            return np.full(size, ord(name[0]), np.uint8)

        return decode

    for name in "abcd":  # a, b in map 0 (offsets 0, 128); c, d in map 1
        decoded.get(("z", name), make(name))
    assert calls == list("abcd") and len(decoded) == 4 and decoded.nbytes == 400
    decoded.get(("z", "a"), make("a"))  # kept: not decoded again
    decoded.get(("z", "e"), make("e"))  # a third map: map 0 (a, b) goes
    assert calls == list("abcde") and len(decoded) == 3
    a = decoded.get(("z", "a"), make("a"))
    assert calls == list("abcdea") and np.all(a == ord("a")) and not a.flags.writeable
    assert np.all(decoded.get(("z", "d"), make("d")) == ord("d"))
    big = decoded.get(("z", "f"), make("f", 300))  # larger than a map: returned, not kept
    assert big.shape == (300,) and big.flags.writeable and ("z", "f") not in decoded._arrays
    fresh = pickle.loads(pickle.dumps(decoded))  # a DataLoader worker starts empty
    assert len(fresh) == 0 and fresh.max_bytes == 512


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
    zips = {
        p.stem: cache.feature_path(tmp_path / "c", "rgb", p.stem, ExtractParams()) for p in paths
    }
    stamps = {k: z.stat().st_mtime_ns for k, z in zips.items()}
    second = extract_many(items, tmp_path / "c", streams=("rgb",), progress=False)
    assert second.done == [] and sorted(second.cached) == ["v0", "v1"]
    assert {k: z.stat().st_mtime_ns for k, z in zips.items()} == stamps  # untouched
    os.utime(paths[1], ns=(1, 1))  # the source changed: its features are stale
    third = extract_many(items, tmp_path / "c", streams=("rgb",), progress=False)
    assert third.done == ["v1"] and third.cached == ["v0"]


def test_a_failed_write_leaves_no_file(tmp_path):
    target = tmp_path / "s" / "vid.zip"
    with pytest.raises(RuntimeError), cache.ZipWriter(target) as writer:
        writer.add_array("a.npy", np.zeros(3))
        assert writer.tmp.is_file()
        raise RuntimeError("killed")
    assert list((tmp_path / "s").iterdir()) == []


def test_extraction_failing_midway_leaves_no_partial_zip(tmp_path, monkeypatch):
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
    leftovers = [p.name for p in (tmp_path / "c").rglob("*") if p.suffix in (".zip", ".tmp")]
    assert leftovers == []
    assert cache.list_cached(tmp_path / "c", "flow", ExtractParams()) == []


def test_stale_temp_files_of_dead_processes_are_removed(tmp_path):
    dead = tmp_path / ".vid.zip.999999999.tmp"  # beyond any pid limit: no such process
    mine = tmp_path / f".other.zip.{os.getpid()}.tmp"
    dead.write_bytes(b"half")
    mine.write_bytes(b"writing")
    assert cache.remove_stale_temps(tmp_path) == [dead]
    assert not dead.exists() and mine.exists()


def test_same_input_gives_byte_identical_zips(tmp_path):
    path = write_video(tmp_path / "v.mkv", index_frames(15), 10, audio=tone(1.5))
    for name in ("a", "b"):
        extract_video(path, "v", tmp_path / name)
    for stream in ("audio", "rgb", "flow"):
        a = cache.feature_path(tmp_path / "a", stream, "v", ExtractParams()).read_bytes()
        b = cache.feature_path(tmp_path / "b", stream, "v", ExtractParams()).read_bytes()
        assert a == b
