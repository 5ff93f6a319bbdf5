"""The label space, read from data (``instruments.yaml``, shipped with the package; in a checkout
also at ``annotations/instruments.yaml``), never written in code."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import yaml

DEFAULT_LABELS = Path(str(files("ipd") / "instruments.yaml"))  # package data (a real file)


@dataclass(frozen=True)
class Instrument:
    """One class of the label space (fields documented in ``instruments.yaml``)."""

    name: str
    yt8m_label: int
    yt8m_name: str
    gm_programs: tuple[int, ...]
    drum_kit: bool
    pitch_range: tuple[int, int]
    action_regions: tuple[str, ...] = ()
    playing_tools: tuple[str, ...] = ()
    portable: bool = True
    mtt_tags: tuple[str, ...] = ()
    medleydb_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class LabelSpace:
    """Ordered instruments; index ``g`` is the model output channel ``g``."""

    instruments: tuple[Instrument, ...]
    source: str = field(default="", compare=False)

    @property
    def names(self) -> list[str]:
        return [inst.name for inst in self.instruments]

    def __len__(self) -> int:
        return len(self.instruments)

    def index(self, name: str) -> int:
        """Output channel of ``name`` (case-insensitive; YouTube-8M names accepted too)."""
        key = name.strip().lower()
        for g, inst in enumerate(self.instruments):
            if key in (inst.name.lower(), inst.yt8m_name.lower()):
                return g
        raise KeyError(f"{name!r} is not in the label space {self.names} ({self.source})")

    def __getitem__(self, name: str) -> Instrument:
        return self.instruments[self.index(name)]


def load_label_space(path: str | Path | None = None) -> LabelSpace:
    """Read a label-space YAML (default: the repository's ``annotations/instruments.yaml``)."""
    path = Path(path) if path is not None else DEFAULT_LABELS
    if not path.is_file():
        raise FileNotFoundError(f"{path}: label-space file not found")
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict) or not isinstance(raw.get("instruments"), list):
        raise ValueError(f"{path}: expected a mapping with an 'instruments' list")
    instruments = []
    for i, item in enumerate(raw["instruments"]):
        try:
            instruments.append(
                Instrument(
                    name=str(item["name"]),
                    yt8m_label=int(item.get("yt8m_label", -1)),
                    yt8m_name=str(item.get("yt8m_name", item["name"])),
                    gm_programs=tuple(int(p) for p in item.get("gm_programs", [0])),
                    drum_kit=bool(item.get("drum_kit", False)),
                    pitch_range=tuple(item.get("pitch_range", [48, 84])),
                    action_regions=tuple(item.get("action_regions", [])),
                    playing_tools=tuple(item.get("playing_tools", [])),
                    portable=bool(item.get("portable", True)),
                    mtt_tags=tuple(item.get("mtt_tags", [])),
                    medleydb_labels=tuple(item.get("medleydb_labels", [])),
                )
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{path}: instrument #{i} is malformed ({err})") from err
    names = [inst.name.lower() for inst in instruments]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: duplicate instrument names")
    return LabelSpace(tuple(instruments), source=str(path))
