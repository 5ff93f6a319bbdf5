"""``--executor ray``: a local Ray cluster of 2 worker CPUs runs feature extraction and teacher
inference per video and writes what the local executor writes, byte for byte; bad input is in the
skip list, not retried; a worker killed while writing is retried and the job completes."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from ipd.cli.extract import collect_items
from ipd.cli.main import main
from ipd.executors import Executor
from ipd.features import cache
from ipd.features.batch import extract_many
from ipd.features.params import STREAMS, ExtractParams
from ipd.staging.teach import teach
from tests.conftest import TINY_SIZE

PARAMS = ExtractParams(size=TINY_SIZE)  # the settings of the tiny_cache fixture


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster (2 CPUs: two worker processes at a time) for this module's tests;
    its session files in a temporary folder, removed with it."""
    import ray

    temp = tempfile.mkdtemp(prefix="ipd-ray-")  # short: Ray's socket paths live under it
    ray.init(num_cpus=2, include_dashboard=False, _temp_dir=temp, logging_level=logging.WARNING)
    yield ray
    ray.shutdown()
    shutil.rmtree(temp, ignore_errors=True)


def assert_same_files(ours: Path, theirs: Path, count: int) -> None:
    """Every file under ``ours`` (hidden temporary ones aside) has the bytes of the file of the
    same name under ``theirs``; ``count`` of them are feature stores or npz."""
    shown = [
        p for p in ours.rglob("*") if not any(s.startswith(".") for s in p.relative_to(ours).parts)
    ]
    files = [p for p in shown if p.is_file()]
    assert sum(p.suffix in (".zarr", ".npz") for p in shown) == count
    for path in files:
        assert path.read_bytes() == (theirs / path.relative_to(ours)).read_bytes(), path


@pytest.mark.slow
def test_ipd_extract_on_ray_writes_the_local_bytes_and_lists_bad_videos(
    cluster, tiny_world, tiny_cache, tmp_path, capsys
):
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n")
    out = tmp_path / "cache"
    argv = ["extract", str(tiny_world), str(text), "--split", "test", "--cache", str(out),
            "--size", str(TINY_SIZE), "--executor", "ray", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "extracted 9, already cached 0, failed 1 of 10 videos" in captured.out
    assert "skipped 1 of 10 video(s):" in captured.err
    assert f"  {text}: not a readable video" in captured.err  # reported once, not retried
    assert_same_files(out, tiny_cache, count=9 * len(STREAMS))  # tiny_cache: local executor


@pytest.mark.slow
@pytest.mark.usefixtures("one_torch_thread")
@pytest.mark.parametrize("kind", ["sound", "object"])
def test_teacher_inference_on_ray_equals_the_local_executor(
    cluster, kind, tiny_world, tiny_cache, tiny_ckpts, tmp_path
):
    # Local: one after another in this process, on one torch thread as each Ray task runs
    local = teach(kind, tiny_ckpts[kind], tiny_world, tiny_cache, tmp_path / "local",
                  progress=False)  # fmt: skip
    distributed = teach(kind, tiny_ckpts[kind], tiny_world, tiny_cache, tmp_path / "ray",
                        progress=False, executor=Executor("ray"))  # fmt: skip
    assert distributed.written == local.written and len(local.written) == 27
    assert not distributed.failed and not distributed.skipped
    assert_same_files(tmp_path / "ray", tmp_path / "local", count=27)  # and teacher.json


@pytest.mark.slow
def test_a_worker_killed_while_writing_is_retried_and_the_job_completes(
    cluster, tiny_world, tiny_cache, tmp_path
):
    out, items = tmp_path / "cache", collect_items([tiny_world])
    done = {}
    run = threading.Thread(target=lambda: done.update(
        report=extract_many(items, out, PARAMS, progress=False, executor=Executor("ray"))
    ))  # fmt: skip
    run.start()
    victim = None  # (pid, the store it was writing): the writer's pid is in the temporary name
    deadline = time.monotonic() + 120
    while victim is None and run.is_alive() and time.monotonic() < deadline:
        for tmp in out.rglob(".*.zarr.*.tmp"):
            pid = int(tmp.name.rsplit(".", 2)[-2])
            assert pid != os.getpid()  # a Ray worker writes, not this process
            os.kill(pid, signal.SIGSTOP)  # frozen, it cannot rename the store under our eyes
            if tmp.exists():
                os.kill(pid, signal.SIGKILL)
                victim = (pid, tmp)
                break
            os.kill(pid, signal.SIGCONT)  # it had finished that file: catch another
        time.sleep(0.002)
    run.join(timeout=300)
    assert victim is not None, "no worker was caught writing a store"
    assert not run.is_alive(), "the job did not finish after the worker was killed"
    pid, tmp = victim
    report = done["report"]
    assert len(report.done) == 27 and report.failed == []  # the killed video was redone
    assert tmp.exists()  # the dead worker's half-written store stays hidden...
    assert_same_files(out, tiny_cache, count=27 * len(STREAMS))  # ...and nothing else differs
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    rerun = extract_many(items, out, PARAMS, progress=False, executor=Executor("ray"))
    assert len(rerun.cached) == 27 and not tmp.exists()  # and the next run removes it
    for stream in STREAMS:
        assert len(cache.list_cached(out, stream, PARAMS)) == 27


def test_without_ray_the_option_says_how_to_get_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as when not installed
    video = tmp_path / "v.mp4"
    assert main(["extract", str(video), "--cache", str(tmp_path), "--executor", "ray"]) == 2
    assert capsys.readouterr().err == "error: ray is not installed: pip install 'ipd[ray]'\n"
    assert main(["extract", str(video), "--cache", str(tmp_path), "--address", "auto"]) == 2
    assert "a Ray address needs --executor ray" in capsys.readouterr().err
