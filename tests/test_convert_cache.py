"""``ipd convert-cache``: zips of the earlier per-frame layout become stores that read the same."""

from __future__ import annotations

import io
import json
import shutil
import zipfile

import cv2
import numpy as np
import pytest
from test_features_media import texture, tone, write_video

from ipd.cli.main import main
from ipd.features import cache
from ipd.features.extract import extract_video
from ipd.features.params import ExtractParams
from ipd.features.reader import open_features


def _legacy_zip(store, target) -> None:
    """The zip an earlier ipd wrote for ``store``: meta.json and one member per frame."""
    reader = cache.StoreReader(store)
    meta = reader.meta

    def npy(array) -> bytes:
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
        return buf.getvalue()

    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("meta.json", json.dumps(meta))
        if meta["stream"] == "audio":
            for win in meta["windows"]:
                mel = reader.rows(f"logmel_{win}", 0, 10**6)
                for k in range(0, len(mel), 16):
                    zf.writestr(f"logmel_{win}/{k // 16:06d}.npy", npy(mel[k : k + 16]))
        elif meta["stream"] == "rgb":
            for k, frame in enumerate(reader.rows("rgb", 0, 10**6)):
                ok, png = cv2.imencode(".png", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
                zf.writestr(f"rgb/{k:06d}.png", png.tobytes())
        else:
            for i, counts in enumerate(reader.rows("flow", 0, 10**6)):
                zf.writestr(f"flow/{i:06d}.npy", npy((counts / 64).astype(np.float16)))


@pytest.fixture()
def legacy(tmp_path):
    """A cache of one 3-s video in the zip layout, and the store it was made from (``ref``)."""
    base = texture(48, 64)
    frames = [np.repeat(np.roll(base, 3 * i, axis=1)[..., None], 3, axis=2) for i in range(75)]
    path = write_video(tmp_path / "clip.mkv", np.stack(frames), 25, audio=tone(3.0))
    extract_video(path, "clip", tmp_path / "ref")
    shutil.copytree(tmp_path / "ref", tmp_path / "old")
    for stream in ("audio", "rgb", "flow"):
        store = cache.feature_path(tmp_path / "old", stream, "clip", ExtractParams())
        _legacy_zip(store, store.with_suffix(".zip"))
        shutil.rmtree(store)
    return tmp_path


def test_converted_zips_read_exactly_as_the_extraction(legacy, capsys):
    assert cache.list_cached(legacy / "old", "flow", ExtractParams()) == []  # zips only
    assert main(["convert-cache", str(legacy / "old")]) == 0
    assert "3 zips converted, 0 already had a store, 0 failed" in capsys.readouterr().out
    with open_features(legacy / "old", "clip") as new, open_features(legacy / "ref", "clip") as ref:
        assert new.meta == ref.meta
        np.testing.assert_array_equal(new.rgb(), ref.rgb())
        np.testing.assert_array_equal(new.flow(), ref.flow())
        assert np.abs(ref.flow()).max() > 1  # moving texture: real flow values
        for win in (512, 2048, 8192):
            np.testing.assert_array_equal(new.logmel_all(win), ref.logmel_all(win))
    for stream in ("audio", "rgb", "flow"):  # the same files as the extraction wrote
        ours = cache.feature_path(legacy / "old", stream, "clip", ExtractParams())
        theirs = cache.feature_path(legacy / "ref", stream, "clip", ExtractParams())
        files = sorted(p.relative_to(ours) for p in ours.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(theirs) for p in theirs.rglob("*") if p.is_file())
        assert all((ours / f).read_bytes() == (theirs / f).read_bytes() for f in files)
        assert ours.with_suffix(".zip").is_file()  # kept without --delete-zips


def test_a_damaged_zip_is_reported_and_the_rest_resumes(legacy, capsys):
    flow_zip = cache.feature_path(legacy / "old", "flow", "clip", ExtractParams()).with_suffix(
        ".zip"
    )
    flow_zip.write_bytes(flow_zip.read_bytes()[:1000])  # cut short
    assert main(["convert-cache", str(legacy / "old")]) == 1
    captured = capsys.readouterr()
    assert "2 zips converted, 0 already had a store, 1 failed" in captured.out
    assert f"skipped {flow_zip}: not a readable zip file" in captured.err
    assert cache.list_cached(legacy / "old", "flow", ExtractParams()) == []
    assert main(["convert-cache", str(legacy / "old"), "--delete-zips"]) == 1
    assert "0 zips converted, 2 already had a store, 1 failed" in capsys.readouterr().out
    assert sorted(p.name for p in (legacy / "old").rglob("*.zip")) == ["clip.zip"]  # the bad one


def test_a_missing_cache_is_one_line(tmp_path, capsys):
    assert main(["convert-cache", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'nope'}: no such cache folder"
