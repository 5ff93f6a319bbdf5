"""Helpers shared by the dataset tools: row-numbered CSV reading, atomic writes, file lookup, the
``index.csv`` writer and the printed summary. Nothing here knows about a particular dataset."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ipd.errors import InputError
from ipd.files import atomic_path
from ipd.labels import LabelSpace, load_label_space

VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".mov", ".m4v", ".avi", ".flv")  # preference order
INDEX_COLUMNS = ("video_id", "split", "tags", "path", "duration_s")


def row_error(path: str | Path, row: int, problem: str) -> InputError:
    """An ``InputError`` naming the file and the 1-based line of a bad row."""
    return InputError(f"{path}, row {row}: {problem}")


def iter_csv(path: str | Path, comment: str = "#") -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line_number, fields)`` for each data row of a CSV file.

    Blank lines and lines starting with ``comment`` are skipped (AudioSet's header lines start
    with ``#``); spaces after commas are dropped and quoted fields may contain commas. A UTF-8 BOM
    and CRLF line ends are accepted.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, skipinitialspace=True)
        try:
            for fields in reader:
                if not fields or not "".join(fields).strip():
                    continue
                if fields[0].lstrip().startswith(comment):
                    continue
                yield reader.line_num, [x.strip() for x in fields]
        except csv.Error as err:
            raise row_error(path, reader.line_num, f"not valid CSV ({err})") from err


def parse_float(path: str | Path, row: int, name: str, text: str) -> float:
    """``float(text)`` or an error naming the file, row and column."""
    try:
        value = float(text)
    except ValueError:
        raise row_error(path, row, f"{name} {text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise row_error(path, row, f"{name} {text!r} is not a finite number")
    return value


def read_id_list(path: str | Path) -> list[str]:
    """Video ids, one per line (fold lists). Blank lines are skipped; order and repeats are kept."""
    ids = []
    for row, fields in iter_csv(path):
        if len(fields) != 1 or not fields[0] or any(c.isspace() for c in fields[0]):
            raise row_error(path, row, f"expected one video id per line, got {','.join(fields)!r}")
        ids.append(fields[0])
    return ids


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half."""
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as f:
        f.write(text)


def atomic_write_json(path: str | Path, obj: object, indent: int | None = 1) -> None:
    """``atomic_write_text`` of ``obj`` as JSON (floats keep their exact ``repr``)."""
    atomic_write_text(path, json.dumps(obj, indent=indent) + "\n")


def write_csv(path: str | Path, header: Iterable[str], rows: Iterable[Iterable[object]]) -> None:
    """Write a CSV with a header row, atomically."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(header))
    writer.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def find_files(folder: str | Path, suffixes: Iterable[str]) -> dict[str, Path]:
    """Map file stem -> path for files under ``folder`` (recursive) with one of ``suffixes``.

    When a stem exists with several suffixes the one earlier in ``suffixes`` wins, so the lookup
    does not depend on directory order. Partial downloads (``.part``) never match.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a directory")
    rank = {s.lower(): i for i, s in enumerate(suffixes)}
    found: dict[str, Path] = {}
    for p in sorted(folder.rglob("*")):
        r = rank.get(p.suffix.lower())
        if r is None or not p.is_file():
            continue
        old = found.get(p.stem)
        if old is None or r < rank[old.suffix.lower()]:
            found[p.stem] = p
    return found


def dataset_path(path: Path, dataset: Path) -> str:
    """``path`` relative to the dataset folder when it lies inside it, else absolute."""
    path, dataset = path.resolve(), dataset.resolve()
    try:
        return path.relative_to(dataset).as_posix()
    except ValueError:
        return path.as_posix()


def merge_index(path: str | Path, rows: list[dict[str, object]], splits: Iterable[str]) -> int:
    """Write ``rows`` into ``index.csv`` (FORMATS.md), keeping existing rows of other splits.

    Tools that make different splits of one dataset folder (YouTube-8M train/val, YT8M-IPA test)
    can therefore be run in any order. Returns the number of rows kept from the old file.
    """
    path = Path(path)
    splits = set(splits)
    kept = []
    if path.is_file():
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = set(INDEX_COLUMNS) - set(reader.fieldnames or ())
            if missing:
                raise InputError(f"{path}: not an index.csv (missing columns {sorted(missing)})")
            kept = [r for r in reader if r["split"] not in splits]
    out = kept + [{c: r.get(c, "") for c in INDEX_COLUMNS} for r in rows]
    write_csv(path, INDEX_COLUMNS, ([r[c] for c in INDEX_COLUMNS] for r in out))
    return len(kept)


def load_labels(path: str | Path | None) -> LabelSpace:
    """The label space, with a bad file reported as an ``InputError``."""
    try:
        return load_label_space(path)
    except (OSError, ValueError) as err:
        raise InputError(str(err)) from err


def probe_duration(path: Path) -> float | None:
    """Container duration in seconds read from the header with PyAV; ``None`` if it has none.

    Raises:
        InputError: the file cannot be opened as a media container.
    """
    import av  # imported here: only the tools that look at videos need it

    try:
        with av.open(str(path)) as container:
            if container.duration:
                return container.duration / av.time_base
            for stream in container.streams:
                if stream.duration and stream.time_base:
                    return float(stream.duration * stream.time_base)
    except (av.FFmpegError, OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read the video ({err})") from err
    return None


@dataclass
class Summary:
    """What a tool made, found and skipped, printed at the end of every run.

    ``skipped`` counts items per reason; ``examples`` keeps the first few ids of each reason so the
    printout says which ones, not only how many.
    """

    title: str
    counts: dict[str, int | str] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    max_examples: int = 5

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = int(self.counts.get(what, 0)) + n

    def set(self, what: str, value: int | str) -> None:
        self.counts[what] = value

    def skip(self, reason: str, item: str) -> None:
        self.skipped[reason] += 1
        ex = self.examples.setdefault(reason, [])
        if len(ex) < self.max_examples:
            ex.append(item)

    def note(self, message: str) -> None:
        self.notes.append(message)

    def render(self) -> str:
        lines = [self.title]
        lines += [f"  {what}: {n}" for what, n in self.counts.items()]
        for reason, n in self.skipped.most_common():
            more = ", ..." if n > len(self.examples[reason]) else ""
            lines.append(f"  skipped {n} ({reason}): {', '.join(self.examples[reason])}{more}")
        lines += [f"  note: {m}" for m in self.notes]
        return "\n".join(lines)


def read_name_map(path: str | Path, labels: LabelSpace) -> dict[str, str]:
    """A ``key,name[,...]`` mapping CSV (AudioSet MIDs, ImageNet WordNet ids) -> label names.

    Rows whose name is not a label (the header, instruments outside ``labels``) are ignored, so
    one mapping file serves smaller label spaces too.
    """
    out: dict[str, str] = {}
    for row, fields in iter_csv(path):
        if len(fields) < 2 or not fields[0]:
            raise row_error(path, row, "expected 'key,name' with a label name in the second column")
        try:
            name = labels[fields[1]].name
        except KeyError:
            continue
        if out.get(fields[0], name) != name:
            raise row_error(path, row, f"{fields[0]} is mapped to both {out[fields[0]]} and {name}")
        out[fields[0]] = name
    if not out:
        raise InputError(f"{path}: maps nothing to the label space {labels.names}")
    return out
