"""The paper's claims (SPEC 8) checked on a metrics table.

A claim is an ordering of two rows on one metric (``ST05 beats VT in time``) or an absolute bar
(``SOT0503 temporal AUC >= 0.80``). Its *margin* on a metrics table is how far it holds, in the
metric's unit: positive when it holds, negative when it fails (for an ordering the paired
difference of the two rows in the claim's direction; for a bar the value minus the bar). A study
over seeds judges a claim on the distribution of its margins (:mod:`ipd.staging.study`).

:func:`check_claims` gives each claim as ``(text, holds, detail)``; ``holds`` is None when a row it
needs is missing. Higher temporal AUC is better; lower spatial distance (px) is better.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

Claim = tuple[str, bool | None, str]
TEMPORAL, SPATIAL = "temporal_auc", "spatial_px"


def _value(metrics: Mapping[str, dict], row: str, key: str) -> float | None:
    return (metrics.get(row) or {}).get(key)


@dataclass(frozen=True)
class Ordering:
    """``better`` is better than ``worse`` on ``key``; with ``ties``, equal also holds."""

    text: str
    better: str
    worse: str
    key: str
    ties: bool = False

    def margin(self, metrics: Mapping[str, dict]) -> float | None:
        """``better - worse`` for AUC, ``worse - better`` for pixels (None: a row is missing)."""
        x, y = _value(metrics, self.better, self.key), _value(metrics, self.worse, self.key)
        if x is None or y is None:
            return None
        return x - y if self.key == TEMPORAL else y - x

    def holds(self, margin: float) -> bool:
        return margin >= 0 if self.ties else margin > 0

    def detail(self, metrics: Mapping[str, dict]) -> str:
        x, y = _value(metrics, self.better, self.key), _value(metrics, self.worse, self.key)
        if x is None or y is None:
            return f"needs {self.better} and {self.worse}"
        unit = "AUC" if self.key == TEMPORAL else "px"
        return f"{self.better} {x:.3f} vs {self.worse} {y:.3f} {unit}"


@dataclass(frozen=True)
class AucBar:
    """``row``'s temporal AUC is at least ``bar``."""

    text: str
    row: str
    bar: float

    def margin(self, metrics: Mapping[str, dict]) -> float | None:
        auc = _value(metrics, self.row, TEMPORAL)
        return None if auc is None else auc - self.bar

    def holds(self, margin: float) -> bool:
        return margin >= 0

    def detail(self, metrics: Mapping[str, dict]) -> str:
        auc = _value(metrics, self.row, TEMPORAL)
        return "missing" if auc is None else f"{auc:.3f}"


@dataclass(frozen=True)
class CenterGainBar:
    """``row``'s spatial distance is at least ``gain`` (a fraction) below the Center baseline's."""

    text: str
    row: str
    gain: float

    def margin(self, metrics: Mapping[str, dict]) -> float | None:
        px, center = _value(metrics, self.row, SPATIAL), _value(metrics, "Center", SPATIAL)
        if px is None or center is None:
            return None
        return (1 - px / center) - self.gain

    def holds(self, margin: float) -> bool:
        return margin >= 0

    def detail(self, metrics: Mapping[str, dict]) -> str:
        px, center = _value(metrics, self.row, SPATIAL), _value(metrics, "Center", SPATIAL)
        if px is None or center is None:
            return ""
        return f"{px:.1f} px vs Center {center:.1f} px ({1 - px / center:.0%})"


ClaimSpec = Ordering | AucBar | CenterGainBar


def claim_specs(
    vt: str = "VT",
    st: str = "ST05",
    ot: str = "OT03",
    sot: str = "SOT0503",
    min_sot_auc: float = 0.80,
    min_gain_over_center: float = 0.25,
) -> list[ClaimSpec]:
    """The orderings of Tables 4.8 and 4.12-4.13 and the demo's absolute bars."""
    return [
        Ordering(f"{st} beats {vt} in time", st, vt, TEMPORAL),
        Ordering(f"{ot} beats {vt} in space", ot, vt, SPATIAL),
        Ordering(f"{sot} beats {vt} in time", sot, vt, TEMPORAL),
        Ordering(f"{sot} beats {vt} in space", sot, vt, SPATIAL),
        Ordering(f"{sot}xOxS >= {sot} in time", f"{sot}xOxS", sot, TEMPORAL, ties=True),
        Ordering(f"{sot}xO <= {sot} in space", f"{sot}xO", sot, SPATIAL, ties=True),
        AucBar(f"{sot} temporal AUC >= {min_sot_auc:.2f}", sot, min_sot_auc),
        CenterGainBar(
            f"{sot} spatial distance >= {min_gain_over_center:.0%} below Center",
            sot,
            min_gain_over_center,
        ),
    ]


def judge(spec: ClaimSpec, metrics: Mapping[str, dict]) -> Claim:
    """``(text, holds, detail)`` of one claim on one metrics table."""
    margin = spec.margin(metrics)
    return (spec.text, None if margin is None else spec.holds(margin), spec.detail(metrics))


def check_claims(metrics: Mapping[str, dict], **rows) -> list[Claim]:
    """Every claim of :func:`claim_specs` (``rows``: its arguments) on one metrics table."""
    return [judge(spec, metrics) for spec in claim_specs(**rows)]
