"""Resumable downloads of the listed YouTube videos with ``yt-dlp`` (where a network is open).

Plans come from the project's lists: fold lists / id files (``--ids``, one YouTube id per line),
``video_id.te.json`` (``--video-ids-json``) or the ``segments.csv`` written by
``data_tools.audioset`` (``--segments``: only each segment's 10 s are fetched). ``--first-seconds
60`` fetches only the part of a YouTube-8M video that training uses.

Each finished item is recorded in a state file (``download_state.json`` in the output folder,
rewritten atomically after every item), so an interrupted run continues where it stopped:
finished ids are skipped, videos YouTube reports as gone are not asked for again (unless
``--retry-unavailable``), other failures are retried up to ``--max-attempts`` runs. Unavailable
and given-up items are listed in ``unavailable.csv``; many YouTube ids die, that is expected.

``yt-dlp`` is not a dependency of the project: install it yourself (``pip install yt-dlp``); it is
called as an executable. Usage::

    python -m data_tools.download --ids fold.tr.txt fold.va.txt --first-seconds 60 --out videos/
    python -m data_tools.download --segments DATASET/segments.csv --out audioset_clips/
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from data_tools.common import (
    VIDEO_SUFFIXES,
    Summary,
    atomic_write_json,
    iter_csv,
    parse_float,
    read_id_list,
    row_error,
    write_csv,
)
from ipd.errors import InputError

MEDIA_SUFFIXES = VIDEO_SUFFIXES + (".m4a", ".opus", ".ogg", ".wav", ".flac", ".mp3")
DEFAULT_FORMAT = "bv*[height<=480]+ba/b[height<=480]/b"  # 480p is plenty for 256-px frames
STATE_VERSION = 1
# yt-dlp messages meaning the video itself is gone or closed to us; anything else (network,
# throttling, "confirm you're not a bot") is a failure worth retrying.
UNAVAILABLE = re.compile(
    r"video unavailable|private video|has been removed|no longer available|"
    r"account associated with this video has been terminated|not available in your country|"
    r"blocked it in your country|copyright claim|confirm your age|members[- ]only|"
    r"join this channel|does not exist|this video is unavailable",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DownloadItem:
    """One file to fetch: ``<key>.<ext>`` from ``youtube_id``, optionally only ``[start, end)``."""

    key: str
    youtube_id: str
    start_s: float | None = None
    end_s: float | None = None

    @property
    def url(self) -> str:
        # a URL, not the bare id: ids may start with '-' and would read as an option
        return f"https://www.youtube.com/watch?v={self.youtube_id}"


@dataclass(frozen=True)
class Outcome:
    """What one download attempt gave: ``done``, ``unavailable`` or ``failed``."""

    status: str
    message: str = ""


Downloader = Callable[[DownloadItem, Path], Outcome]


def plan_ids(ids: Iterable[str], first_seconds: float | None = None) -> list[DownloadItem]:
    """Items for whole videos (or their first ``first_seconds``), repeats removed, order kept."""
    end = first_seconds if first_seconds else None
    return [
        DownloadItem(i, i, 0.0 if end else None, end) for i in dict.fromkeys(i.strip() for i in ids)
    ]


def plan_video_ids_json(path: Path, first_seconds: float | None = None) -> list[DownloadItem]:
    """Items for ``video_id.te.json`` (instrument -> ids)."""
    try:
        raw = json.loads(Path(path).read_text())
        ids = [i for v in raw.values() for i in v]
    except (OSError, ValueError, AttributeError, TypeError) as err:
        raise InputError(f"{path}: expected an object of instrument -> id list ({err})") from err
    return plan_ids(ids, first_seconds)


def plan_segments(path: Path) -> list[DownloadItem]:
    """Items for the AudioSet tool's ``segments.csv`` (``clip_id,youtube_id,start_s,end_s,...``)."""
    items = []
    rows = iter_csv(path)
    row, header = next(rows, (1, []))
    if header[:4] != ["clip_id", "youtube_id", "start_s", "end_s"]:
        raise row_error(path, row, "expected the header 'clip_id,youtube_id,start_s,end_s,...'")
    for row, f in rows:
        if len(f) < 4 or not f[0] or not f[1]:
            raise row_error(path, row, "expected 'clip_id,youtube_id,start_s,end_s'")
        start, end = (parse_float(path, row, n, x) for n, x in (("start_s", f[2]), ("end_s", f[3])))
        if end <= start:
            raise row_error(path, row, f"segment [{f[2]}, {f[3]}] is empty")
        items.append(DownloadItem(f[0], f[1], start, end))
    return list({i.key: i for i in items}.values())


def existing_file(out_dir: Path, key: str) -> Path | None:
    """The finished media file ``<key>.<ext>`` in ``out_dir``, if any (partial files never)."""
    for suffix in MEDIA_SUFFIXES:
        if (out_dir / f"{key}{suffix}").is_file():
            return out_dir / f"{key}{suffix}"
    return None


def load_state(path: Path) -> dict[str, dict]:
    """Per-key records ``{"status", "attempts", "message"}`` of earlier runs (empty if none)."""
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_text())
        if raw.get("version") != STATE_VERSION or not isinstance(raw.get("items"), dict):
            raise ValueError("unknown layout")
    except (OSError, ValueError, AttributeError) as err:
        raise InputError(f"{path}: not a download state file ({err}); move it away") from err
    return raw["items"]


def run(
    plan: list[DownloadItem],
    out_dir: Path,
    downloader: Downloader | None,
    state_path: Path | None = None,
    retry_unavailable: bool = False,
    max_attempts: int = 3,
    limit: int | None = None,
    sleep_s: float = 0.0,
) -> Summary:
    """Download what the plan lacks, recording every outcome in the state file.

    Args:
        plan: the items, in order.
        out_dir: where ``<key>.<ext>`` files go.
        downloader: called as ``downloader(item, out_dir)``; ``None``: a dry run that counts what
            would be downloaded and writes nothing.
        state_path: the state file (default ``out_dir/download_state.json``).
        retry_unavailable: ask again for videos reported unavailable before.
        max_attempts: give up on an item after this many failed runs.
        limit: download at most this many items in this run.
        sleep_s: pause between downloads (be gentle with the site).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    state_path = state_path or out_dir / "download_state.json"
    state = load_state(state_path)
    summary = Summary(f"Downloads into {out_dir} ({len(plan)} planned)")
    todo = []
    for item in plan:
        rec = state.get(item.key, {})
        if existing_file(out_dir, item.key) is not None:
            if rec.get("status") != "done":
                state[item.key] = {**rec, "status": "done", "message": "found on disk"}
            summary.count("already downloaded")
        elif rec.get("status") == "unavailable" and not retry_unavailable:
            summary.count("unavailable (known)")
        elif rec.get("status") == "failed" and rec.get("attempts", 0) >= max_attempts:
            summary.count(f"given up after {max_attempts} failed attempts")
        else:
            todo.append(item)
    summary.count("to download", len(todo))
    if downloader is not None:
        for n, item in enumerate(todo[:limit]):
            if n and sleep_s:
                time.sleep(sleep_s)
            outcome = downloader(item, out_dir)
            if outcome.status == "done" and existing_file(out_dir, item.key) is None:
                outcome = Outcome("failed", "the downloader reported success but wrote no file")
            rec = state.get(item.key, {})
            state[item.key] = {
                "status": outcome.status,
                "attempts": rec.get("attempts", 0) + (outcome.status == "failed"),
                "message": outcome.message,
            }
            atomic_write_json(state_path, {"version": STATE_VERSION, "items": state})
            summary.count(f"this run: {outcome.status}")
            if outcome.status != "done":
                summary.skip(outcome.status, f"{item.key} ({outcome.message})")
    if downloader is None:
        return summary  # a dry run writes nothing
    atomic_write_json(state_path, {"version": STATE_VERSION, "items": state})
    gone = [
        (i.key, i.youtube_id, rec["status"], rec.get("message", ""))
        for i in plan
        if (rec := state.get(i.key, {})).get("status") == "unavailable"
        or (rec.get("status") == "failed" and rec.get("attempts", 0) >= max_attempts)
    ]
    write_csv(out_dir / "unavailable.csv", ("key", "youtube_id", "status", "message"), gone)
    summary.note(f"state in {state_path}; {len(gone)} unavailable listed in unavailable.csv")
    return summary


class YtDlp:
    """Download with the ``yt-dlp`` executable (or ``python -m yt_dlp`` if only the module is).

    Raises:
        InputError: yt-dlp is not installed.
    """

    def __init__(
        self,
        fmt: str = DEFAULT_FORMAT,
        extra_args: Iterable[str] = (),
        executable: str | None = None,
        timeout_s: float = 900.0,
    ):
        if executable:
            self.command = [executable]
        elif shutil.which("yt-dlp"):
            self.command = [shutil.which("yt-dlp")]
        elif importlib.util.find_spec("yt_dlp") is not None:
            self.command = [sys.executable, "-m", "yt_dlp"]
        else:
            raise InputError(
                "yt-dlp: not installed (it is not a project dependency); "
                "run `pip install yt-dlp` on a machine with network access"
            )
        self.fmt, self.extra_args, self.timeout_s = fmt, list(extra_args), timeout_s

    def args(self, item: DownloadItem, out_dir: Path) -> list[str]:
        """The full command line for ``item``."""
        cmd = [*self.command, "--no-playlist", "--no-progress", "-f", self.fmt]
        cmd += ["--merge-output-format", "mp4", "-o", str(out_dir / f"{item.key}.%(ext)s")]
        if item.start_s is not None and item.end_s is not None:
            cmd += ["--download-sections", f"*{item.start_s:g}-{item.end_s:g}"]
            cmd += ["--force-keyframes-at-cuts"]  # exact cut: re-encodes around the bounds
        return cmd + self.extra_args + ["--", item.url]

    def __call__(self, item: DownloadItem, out_dir: Path) -> Outcome:
        try:
            result = subprocess.run(
                self.args(item, out_dir),
                capture_output=True,
                text=True,
                timeout=self.timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Outcome("failed", f"timed out after {self.timeout_s:g} s")
        return classify(result.returncode, result.stderr)


def classify(returncode: int, stderr: str) -> Outcome:
    """Turn yt-dlp's exit code and error output into an ``Outcome``."""
    errors = [line for line in stderr.splitlines() if line.startswith("ERROR")]
    message = (errors or stderr.strip().splitlines() or [""])[-1][:300]
    if returncode == 0:
        return Outcome("done")
    if UNAVAILABLE.search(stderr):
        return Outcome("unavailable", message)
    return Outcome("failed", message or f"exit code {returncode}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m data_tools.download",
        description="Resumable yt-dlp downloads of the listed YouTube videos.",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for <key>.<ext> files")
    parser.add_argument("--ids", type=Path, nargs="*", default=[], help="id lists (fold lists)")
    parser.add_argument("--video-ids-json", type=Path, help="video_id.te.json")
    parser.add_argument("--segments", type=Path, help="segments.csv of data_tools.audioset")
    parser.add_argument("--first-seconds", type=float, help="fetch only the first N s of --ids")
    parser.add_argument("--dry-run", action="store_true", help="show the plan, download nothing")
    parser.add_argument("--retry-unavailable", action="store_true")
    parser.add_argument("--max-attempts", type=int, default=3)
    parser.add_argument("--limit", type=int, help="download at most N items in this run")
    parser.add_argument("--sleep", type=float, default=1.0, help="seconds between downloads")
    parser.add_argument("--format", default=DEFAULT_FORMAT, help="yt-dlp format selector")
    parser.add_argument("--yt-dlp", dest="executable", help="path of the yt-dlp executable")
    parser.add_argument("--yt-dlp-args", default="", help="extra yt-dlp arguments (quoted)")
    args = parser.parse_args(argv)
    try:
        plan = plan_ids((i for p in args.ids for i in read_id_list(p)), args.first_seconds)
        if args.video_ids_json:
            plan += plan_video_ids_json(args.video_ids_json, args.first_seconds)
        if args.segments:
            plan += plan_segments(args.segments)
        if not plan:
            parser.error("nothing to download: give --ids, --video-ids-json or --segments")
        plan = list({i.key: i for i in plan}.values())
        downloader = None
        if not args.dry_run:
            downloader = YtDlp(args.format, shlex.split(args.yt_dlp_args), args.executable)
        summary = run(
            plan,
            args.out,
            downloader,
            retry_unavailable=args.retry_unavailable,
            max_attempts=args.max_attempts,
            limit=args.limit,
            sleep_s=args.sleep,
        )
    except InputError as err:
        parser.exit(2, f"error: {err}\n")
    print(summary.render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
