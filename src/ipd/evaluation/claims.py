"""The paper's claims (SPEC 8, issue "Fusion, evaluation and the demo") checked on a metrics table.

Each claim is ``(text, holds, detail)``; ``holds`` is None when a row it needs is missing.
Higher temporal AUC is better; lower spatial distance (px) is better.
"""

from __future__ import annotations

from collections.abc import Mapping

Claim = tuple[str, bool | None, str]


def _value(metrics: Mapping[str, dict], row: str, key: str) -> float | None:
    return (metrics.get(row) or {}).get(key)


def _compare(metrics, text, a, b, key, better) -> Claim:
    x, y = _value(metrics, a, key), _value(metrics, b, key)
    if x is None or y is None:
        return (text, None, f"needs {a} and {b}")
    unit = "AUC" if key == "temporal_auc" else "px"
    holds = x > y if better == "higher" else x < y
    if better in ("higher_or_equal", "lower_or_equal"):
        holds = x >= y if better == "higher_or_equal" else x <= y
    return (text, holds, f"{a} {x:.3f} vs {b} {y:.3f} {unit}")


def check_claims(
    metrics: Mapping[str, dict],
    vt: str = "VT",
    st: str = "ST05",
    ot: str = "OT03",
    sot: str = "SOT0503",
    min_sot_auc: float = 0.80,
    min_gain_over_center: float = 0.25,
) -> list[Claim]:
    """The orderings of Tables 4.8 and 4.12-4.13 and the demo's absolute bars."""
    t, s = "temporal_auc", "spatial_px"
    claims = [
        _compare(metrics, f"{st} beats {vt} in time", st, vt, t, "higher"),
        _compare(metrics, f"{ot} beats {vt} in space", ot, vt, s, "lower"),
        _compare(metrics, f"{sot} beats {vt} in time", sot, vt, t, "higher"),
        _compare(metrics, f"{sot} beats {vt} in space", sot, vt, s, "lower"),
        _compare(metrics, f"{sot}xOxS >= {sot} in time", f"{sot}xOxS", sot, t, "higher_or_equal"),
        _compare(metrics, f"{sot}xO <= {sot} in space", f"{sot}xO", sot, s, "lower_or_equal"),
    ]
    auc = _value(metrics, sot, t)
    claims.append(
        (f"{sot} temporal AUC >= {min_sot_auc:.2f}", None if auc is None else auc >= min_sot_auc,
         "missing" if auc is None else f"{auc:.3f}")
    )  # fmt: skip
    px, center = _value(metrics, sot, s), _value(metrics, "Center", s)
    if px is None or center is None:
        claims.append((f"{sot} spatial distance {min_gain_over_center:.0%} below Center", None, ""))
    else:
        gain = 1 - px / center
        claims.append(
            (f"{sot} spatial distance >= {min_gain_over_center:.0%} below Center",
             gain >= min_gain_over_center, f"{px:.1f} px vs Center {center:.1f} px ({gain:.0%})")
        )  # fmt: skip
    return claims
