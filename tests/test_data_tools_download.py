"""Downloader: planning, resume and unavailable-video logic with a fake downloader (no network)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from data_tools import download
from data_tools.download import DownloadItem, Outcome
from ipd.errors import InputError

REF = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "reference-data" / "instrument_playing"
)


class FakeDownloader:
    """Plays scripted outcomes; ``done`` writes ``<key>.mp4`` unless the key is in ``no_file``."""

    def __init__(self, outcomes: dict[str, str], no_file=(), interrupt_at: str | None = None):
        self.outcomes, self.no_file, self.interrupt_at = outcomes, set(no_file), interrupt_at
        self.calls: list[str] = []

    def __call__(self, item: DownloadItem, out_dir: Path) -> Outcome:
        if item.key == self.interrupt_at:
            raise KeyboardInterrupt
        self.calls.append(item.key)
        status = self.outcomes.get(item.key, "done")
        if status == "done" and item.key not in self.no_file:
            (out_dir / f"{item.key}.mp4").write_bytes(b"video")
        return Outcome(status, "" if status == "done" else f"{status} message")


def _state(out: Path) -> dict:
    return json.loads((out / "download_state.json").read_text())["items"]


def test_plans_dedupe_and_sections(tmp_path):
    items = download.plan_ids(["a", "b", "a", "-dash"], first_seconds=60)
    assert items == [
        DownloadItem("a", "a", 0.0, 60),
        DownloadItem("b", "b", 0.0, 60),
        DownloadItem("-dash", "-dash", 0.0, 60),
    ]
    assert items[2].url == "https://www.youtube.com/watch?v=-dash"
    seg = tmp_path / "segments.csv"
    seg.write_text(
        "clip_id,youtube_id,start_s,end_s,split,tags\nx_30,x,30.0,40.0,train,Guitar\n"
        "y_5.5,y,5.5,15.5,val,Drum\n"
    )
    assert download.plan_segments(seg) == [
        DownloadItem("x_30", "x", 30.0, 40.0),
        DownloadItem("y_5.5", "y", 5.5, 15.5),
    ]
    seg.write_text("clip_id,youtube_id,start_s,end_s\nx_30,x,30,thirty\n")
    with pytest.raises(InputError, match="segments.csv, row 2: end_s 'thirty' is not a number"):
        download.plan_segments(seg)
    seg.write_text("x,30,40,Guitar\n")
    with pytest.raises(InputError, match="segments.csv, row 1: expected the header"):
        download.plan_segments(seg)


def test_plan_of_the_released_test_ids():
    if not REF.is_dir():
        pytest.skip("../shared/reference-data not found")
    items = download.plan_video_ids_json(REF / "video_id.te.json", first_seconds=40)
    assert len(items) == 133  # 135 listed; one Guitar id twice, one id in Cello and Saxophone
    assert {(i.start_s, i.end_s) for i in items} == {(0.0, 40)}


def test_resume_skips_finished_and_unavailable(tmp_path):
    plan = download.plan_ids(["ok1", "gone", "flaky", "liar", "ok2"])
    fake = FakeDownloader({"gone": "unavailable", "flaky": "failed"}, no_file={"liar"})
    first = download.run(plan, tmp_path, fake, max_attempts=2)
    assert fake.calls == ["ok1", "gone", "flaky", "liar", "ok2"]
    state = _state(tmp_path)
    assert {k: (v["status"], v["attempts"]) for k, v in state.items()} == {
        "ok1": ("done", 0),
        "gone": ("unavailable", 0),
        "flaky": ("failed", 1),
        "liar": ("failed", 1),  # said done but wrote nothing
        "ok2": ("done", 0),
    }
    assert first.counts["this run: done"] == 2 and first.counts["this run: failed"] == 2

    second = FakeDownloader({"flaky": "failed"})  # liar now delivers
    summary = download.run(plan, tmp_path, second, max_attempts=2)
    assert second.calls == ["flaky", "liar"]  # finished and unavailable ones are not asked again
    assert summary.counts["already downloaded"] == 2 and summary.counts["unavailable (known)"] == 1
    assert _state(tmp_path)["flaky"]["attempts"] == 2

    third = FakeDownloader({})
    summary = download.run(plan, tmp_path, third, max_attempts=2)
    assert third.calls == []  # flaky given up after 2 attempts
    assert summary.counts["given up after 2 failed attempts"] == 1
    lines = (tmp_path / "unavailable.csv").read_text().splitlines()
    assert lines == [
        "key,youtube_id,status,message",
        "gone,gone,unavailable,unavailable message",
        "flaky,flaky,failed,failed message",
    ]

    fourth = FakeDownloader({})
    download.run(plan, tmp_path, fourth, retry_unavailable=True, max_attempts=5)
    assert fourth.calls == ["gone", "flaky"]
    assert (tmp_path / "unavailable.csv").read_text().splitlines() == [
        "key,youtube_id,status,message"
    ]


def test_interrupted_run_resumes_and_state_stays_valid(tmp_path):
    plan = download.plan_ids(["a", "b", "c"])
    with pytest.raises(KeyboardInterrupt):
        download.run(plan, tmp_path, FakeDownloader({}, interrupt_at="b"))
    assert _state(tmp_path) == {"a": {"status": "done", "attempts": 0, "message": ""}}
    assert not list(tmp_path.glob(".download_state.json.*"))  # no temporary file left behind
    again = FakeDownloader({})
    download.run(plan, tmp_path, again)
    assert again.calls == ["b", "c"]


def test_files_already_on_disk_count_as_done(tmp_path):
    (tmp_path / "x.webm").write_bytes(b"v")
    (tmp_path / "y.mp4.part").write_bytes(b"half")  # a partial download is not finished
    fake = FakeDownloader({})
    summary = download.run(download.plan_ids(["x", "y"]), tmp_path, fake)
    assert fake.calls == ["y"] and summary.counts["already downloaded"] == 1
    assert _state(tmp_path)["x"]["status"] == "done"


def test_dry_run_and_corrupt_state(tmp_path):
    summary = download.run(download.plan_ids(["a", "b"]), tmp_path, None)
    assert summary.counts["to download"] == 2 and not list(tmp_path.iterdir())  # nothing written
    (tmp_path / "download_state.json").write_text("{not json")
    with pytest.raises(InputError, match="download_state.json: not a download state file"):
        download.run(download.plan_ids(["a"]), tmp_path, None)


@pytest.mark.parametrize(
    ("code", "stderr", "status"),
    [
        (0, "", "done"),
        (1, "ERROR: [youtube] abc: Video unavailable. This video has been removed", "unavailable"),
        (
            1,
            "ERROR: [youtube] abc: Private video. Sign in if you've been granted access",
            "unavailable",
        ),
        (1, "ERROR: [youtube] abc: Sign in to confirm your age.", "unavailable"),
        (1, "ERROR: [youtube] abc: Sign in to confirm you're not a bot.", "failed"),
        (1, "ERROR: unable to download video data: HTTP Error 429: Too Many Requests", "failed"),
    ],
)
def test_classify_yt_dlp_errors(code, stderr, status):
    outcome = download.classify(code, "WARNING: something\n" + stderr)
    assert outcome.status == status
    assert outcome.message == (stderr if code else "")


def test_yt_dlp_command_and_missing_executable(tmp_path, monkeypatch):
    ytdlp = download.YtDlp(executable="/opt/yt-dlp", extra_args=["--cookies", "c.txt"])
    args = ytdlp.args(DownloadItem("-id_30", "-id", 30.0, 40.0), tmp_path)
    assert args[0] == "/opt/yt-dlp"
    assert args[args.index("-o") + 1] == str(tmp_path / "-id_30.%(ext)s")
    assert args[args.index("--download-sections") + 1] == "*30-40"
    assert args[-4:] == ["--cookies", "c.txt", "--", "https://www.youtube.com/watch?v=-id"]
    monkeypatch.setattr(download.shutil, "which", lambda name: None)
    monkeypatch.setattr(download.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InputError, match="yt-dlp: not installed"):
        download.YtDlp()


def test_yt_dlp_subprocess_outcome(tmp_path):
    fake = tmp_path / "yt-dlp"
    fake.write_text("#!/bin/sh\necho 'ERROR: [youtube] x: Video unavailable' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    outcome = download.YtDlp(executable=str(fake))(DownloadItem("x", "x"), tmp_path)
    assert outcome == Outcome("unavailable", "ERROR: [youtube] x: Video unavailable")


def test_cli_dry_run(tmp_path, capsys):
    ids = tmp_path / "fold.txt"
    ids.write_text("a\nb\na\n")
    assert download.main(["--ids", str(ids), "--out", str(tmp_path / "v"), "--dry-run"]) == 0
    assert "to download: 2" in capsys.readouterr().out
