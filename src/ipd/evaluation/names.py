"""The paper's row names (§4.3.3): baselines, ``<target><v code><u code>``, fusion suffixes.

Baselines ``Center``, ``Sound``, ``Object``, ``SxO``; action models ``VT``, ``ST05``, ``OT03``,
``SOT0503`` (a threshold's code is its decimal digits without the point: 0.5 -> ``05``, 0.25 ->
``025``, 1 -> ``10``); fusions append ``xO`` and/or ``xS`` (``SOT0503xO``, ``SOT0503xOxS``).
"""

from __future__ import annotations

import re

CENTER, SOUND, OBJECT, SXO = "Center", "Sound", "Object", "SxO"
BASELINES = (CENTER, SOUND, OBJECT, SXO)
TARGETS = ("VT", "ST", "OT", "SOT")
_NAME = re.compile(r"^(SOT|VT|ST|OT)(\d*)((?:x[OS])*)$")


def threshold_code(x: float) -> str:
    """Digits of a threshold without the point: 0.5 -> ``05``, 0.25 -> ``025``, 1 -> ``10``."""
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"threshold {x} is not in [0, 1]")
    text = f"{x:.10g}"
    return (text if "." in text else text + ".0").replace(".", "")


def model_name(target: str, v: float | None = None, u: float | None = None) -> str:
    """The paper's name of an action model: ``("ST", 0.5)`` -> ``ST05``, ``SOT0503``, ``VT``.

    Args:
        target: ``VT``, ``ST``, ``OT`` or ``SOT``.
        v: sound threshold (ST and SOT only).
        u: object threshold (OT and SOT only).
    """
    needs = {"VT": (False, False), "ST": (True, False), "OT": (False, True), "SOT": (True, True)}
    if target not in needs:
        raise ValueError(f"unknown training target {target!r}; expected one of {TARGETS}")
    need_v, need_u = needs[target]
    if (v is not None) != need_v or (u is not None) != need_u:
        raise ValueError(f"{target} takes {'v ' if need_v else ''}{'u' if need_u else ''}".strip())
    return target + (threshold_code(v) if need_v else "") + (threshold_code(u) if need_u else "")


def fusion_name(base: str, with_object: bool = False, with_sound: bool = False) -> str:
    """Name of a fused row: ``fusion_name("SOT0503", True, True)`` -> ``SOT0503xOxS``."""
    return base + ("xO" if with_object else "") + ("xS" if with_sound else "")


def parse_model_name(name: str) -> tuple[str, float | None, float | None, str] | None:
    """``SOT0503xO`` -> ``("SOT", 0.5, 0.3, "xO")``; None for baselines and unknown names."""
    match = _NAME.match(name)
    if not match:
        return None
    target, digits, fusion = match.groups()
    v = u = None
    if target in ("ST", "OT"):
        value = _from_code(digits)
        if value is None:
            return None
        v, u = (value, None) if target == "ST" else (None, value)
    elif target == "SOT":
        splits = [(_from_code(digits[:i]), _from_code(digits[i:])) for i in range(2, len(digits))]
        splits = [s for s in splits if None not in s]
        if len(splits) != 1:
            return None
        v, u = splits[0]
    elif digits:
        return None
    return target, v, u, fusion


def _from_code(code: str) -> float | None:
    """Inverse of :func:`threshold_code`; None when ``code`` is not a canonical code."""
    if len(code) < 2:
        return None
    value = float(code[0] + "." + code[1:])
    return value if value <= 1.0 and threshold_code(value) == code else None
