"""AudioSet: segment CSVs -> 10-s training clips with instrument labels (the sound model's data).

Two CSV flavours are read, both ``YTID, start_seconds, end_seconds, labels``:
- the official release (``balanced_train_segments.csv`` ...): ``#`` header lines and a quoted,
  comma-separated list of ontology ids, ``--PJHxphWEs, 30.000, 40.000, "/m/0342h,/m/07y_7"``;
  ids map to instruments through ``data_tools/audioset_labels.csv`` (or ``--mid-map``);
- the authors' lists (``song_list/AudioSet/*.csv``): label *names* as extra fields,
  ``-JUBdOr8Hes,30.000,40.000,Cello,Violin``.
Labels outside the label space (``Singing``, ``/m/04rlf`` ...) are dropped and counted; a segment
left without an instrument is skipped.

Output in the dataset folder: ``segments.csv`` (``clip_id,youtube_id,start_s,end_s,split,tags``:
the plan, also the downloader's input) and, with ``--videos``, ``index.csv`` rows for the clips.
A video folder may hold pre-cut clips ``<clip_id>.<ext>`` (as ``data_tools.download`` writes
them) or whole videos ``<youtube_id>.<ext>``, which are cut to ``videos/<clip_id>.mp4`` with the
``ffmpeg`` executable (re-encoded, so the cut is exact; existing clips are kept: re-runnable).

Usage::

    python -m data_tools.audioset --train unbalanced_train_segments.5000.csv \\
        --val eval_segments.all.csv --out DATASET [--videos DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from data_tools.common import (
    VIDEO_SUFFIXES,
    Summary,
    dataset_path,
    find_files,
    iter_csv,
    load_labels,
    merge_index,
    parse_float,
    probe_duration,
    read_name_map,
    row_error,
    write_csv,
)
from ipd.errors import InputError
from ipd.labels import LabelSpace

DEFAULT_MID_MAP = Path(__file__).with_name("audioset_labels.csv")
AUDIO_SUFFIXES = (".m4a", ".opus", ".ogg", ".wav", ".flac", ".mp3")  # audio-only downloads
SEGMENT_COLUMNS = ("clip_id", "youtube_id", "start_s", "end_s", "split", "tags")


@dataclass(frozen=True)
class Segment:
    """One labelled AudioSet segment ``[start_s, end_s)`` of a YouTube video."""

    youtube_id: str
    start_s: float
    end_s: float
    split: str
    tags: tuple[str, ...]

    @property
    def clip_id(self) -> str:
        """``<youtube_id>_<start>`` (``abc_30``): unique per segment, a valid file stem."""
        return f"{self.youtube_id}_{self.start_s:g}"


def read_segments(
    path: Path,
    split: str,
    labels: LabelSpace,
    mid_map: dict[str, str],
    summary: Summary,
) -> list[Segment]:
    """Parse one segment CSV (either flavour). Segments without an instrument are skipped."""
    segments = []
    for row, fields in iter_csv(path):
        if len(fields) < 4 or not fields[0]:
            raise row_error(path, row, "expected 'YTID, start_seconds, end_seconds, labels'")
        start = parse_float(path, row, "start_seconds", fields[1])
        end = parse_float(path, row, "end_seconds", fields[2])
        if start < 0 or end <= start:
            raise row_error(path, row, f"segment [{fields[1]}, {fields[2]}] is empty or negative")
        tokens = [t.strip() for f in fields[3:] for t in f.split(",") if t.strip()]
        tags = set()
        for token in tokens:
            name = mid_map.get(token) if token.startswith("/") else _label_name(labels, token)
            if name is None:
                summary.count(f"dropped label {token}")
            else:
                tags.add(name)
        segment = Segment(fields[0], start, end, split, tuple(sorted(tags, key=labels.index)))
        if not tags:
            summary.skip("no instrument label", segment.clip_id)
            continue
        segments.append(segment)
    return segments


def _label_name(labels: LabelSpace, token: str) -> str | None:
    try:
        return labels[token].name
    except KeyError:
        return None


def cut_clip(source: Path, dest: Path, start_s: float, end_s: float) -> None:
    """Cut ``[start_s, end_s)`` of ``source`` to ``dest`` (H.264/AAC MP4) with ffmpeg.

    The output appears only when complete (written under a temporary name, then renamed).

    Raises:
        InputError: ffmpeg is missing or fails (the message has its last error line).
    """
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise InputError(f"{source}: cutting clips needs the ffmpeg executable (not found)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.stem}.part.mp4")
    cmd = [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-ss", f"{start_s:.3f}", "-i", str(source), "-t", f"{end_s - start_s:.3f}",
        "-map", "0:v:0?", "-map", "0:a:0?",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", str(tmp),
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise InputError(f"{source}: ffmpeg could not cut {start_s}-{end_s} s ({last})")
    tmp.replace(dest)


def prepare(
    csvs: dict[str, list[Path]],
    out: Path,
    videos: Path | None = None,
    mid_map_path: Path | None = None,
    labels_path: Path | None = None,
) -> Summary:
    """Write ``out/segments.csv`` and, given ``videos``, the clips and their ``index.csv`` rows.

    Args:
        csvs: split name -> segment CSVs (``{"train": [...], "val": [...]}``).
        out: the dataset folder.
        videos: folder of pre-cut clips ``<clip_id>.<ext>`` and/or whole videos ``<ytid>.<ext>``.
        mid_map_path: AudioSet MID -> label name CSV (default ``data_tools/audioset_labels.csv``).
        labels_path: label-space YAML (default: the repository's).
    """
    labels = load_labels(labels_path)
    mid_map = read_name_map(mid_map_path or DEFAULT_MID_MAP, labels)
    summary = Summary("AudioSet segments")
    segments, seen = [], {}
    for split, paths in csvs.items():
        for path in paths:
            for seg in read_segments(path, split, labels, mid_map, summary):
                if seg.clip_id in seen:
                    summary.skip(
                        f"segment listed again (first in {seen[seg.clip_id]})", seg.clip_id
                    )
                    continue
                seen[seg.clip_id] = path.name
                segments.append(seg)
    for split in csvs:
        summary.count(f"{split}: segments", sum(s.split == split for s in segments))
    per_tag = Counter(t for s in segments for t in s.tags)
    for tag in labels.names:
        summary.count(f"segments tagged {tag}", per_tag[tag])
    write_csv(
        out / "segments.csv",
        SEGMENT_COLUMNS,
        (
            (s.clip_id, s.youtube_id, s.start_s, s.end_s, s.split, ";".join(s.tags))
            for s in segments
        ),
    )
    summary.note(f"wrote {out / 'segments.csv'}")
    if videos is not None:
        rows = _clips(segments, videos, out, summary)
        kept = merge_index(out / "index.csv", rows, csvs)
        summary.note(f"wrote {out / 'index.csv'} ({len(rows)} clips; kept {kept} of other splits)")
    return summary


def _clips(segments: list[Segment], videos: Path, out: Path, summary: Summary) -> list[dict]:
    """Find or cut the clip of every segment; index rows for those that exist."""
    files = find_files(videos, VIDEO_SUFFIXES + AUDIO_SUFFIXES)
    rows = []
    for seg in segments:
        if seg.clip_id in files:
            path = files[seg.clip_id]
            summary.count("clips found pre-cut")
        elif seg.youtube_id in files:
            path = out / "videos" / f"{seg.clip_id}.mp4"
            if not path.is_file():
                try:
                    cut_clip(files[seg.youtube_id], path, seg.start_s, seg.end_s)
                except InputError as err:
                    summary.skip("cut failed", f"{seg.clip_id} ({err})")
                    continue
                summary.count("clips cut from whole videos")
            else:
                summary.count("clips cut earlier (kept)")
        else:
            summary.skip("no downloaded video", seg.clip_id)
            continue
        try:
            duration = probe_duration(path)
        except InputError:
            summary.skip("unreadable clip", seg.clip_id)
            continue
        rows.append(
            {
                "video_id": seg.clip_id,
                "split": seg.split,
                "tags": ";".join(seg.tags),
                "path": dataset_path(path, out),
                "duration_s": "" if duration is None else round(duration, 3),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m data_tools.audioset",
        description="AudioSet segment CSVs -> 10-s instrument clips (segments.csv, index.csv).",
    )
    parser.add_argument("--train", type=Path, nargs="*", default=[], help="training segment CSVs")
    parser.add_argument("--val", type=Path, nargs="*", default=[], help="validation segment CSVs")
    parser.add_argument("--test", type=Path, nargs="*", default=[], help="test segment CSVs")
    parser.add_argument("--out", type=Path, required=True, help="dataset folder")
    parser.add_argument(
        "--videos", type=Path, help="folder of downloaded clips <clip_id>.* or videos <ytid>.*"
    )
    parser.add_argument("--mid-map", type=Path, help="AudioSet MID -> label CSV")
    parser.add_argument("--labels", type=Path, help="label-space YAML (default: the repository's)")
    args = parser.parse_args(argv)
    csvs = {s: getattr(args, s) for s in ("train", "val", "test") if getattr(args, s)}
    if not csvs:
        parser.error("give at least one of --train/--val/--test")
    try:
        summary = prepare(csvs, args.out, args.videos, args.mid_map, args.labels)
    except InputError as err:
        parser.exit(2, f"error: {err}\n")
    print(summary.render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
