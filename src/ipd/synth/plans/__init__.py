"""Instrument drawings and playing mechanics ("body plans"), chosen from label-space data."""

from __future__ import annotations

from ipd.labels import Instrument
from ipd.synth.plans.base import BodyPlan, Pose, ToolSpec
from ipd.synth.plans.drums import DrumKit
from ipd.synth.plans.keys import Bellows, Keyboard
from ipd.synth.plans.strings import Bowed, Plucked
from ipd.synth.plans.winds import Brass, Reed, SideBlown

__all__ = ["BodyPlan", "Pose", "ToolSpec", "plan_class", "PLAN_CLASSES"]

PLAN_CLASSES = (Bowed, Plucked, DrumKit, Keyboard, Bellows, SideBlown, Reed, Brass)


def plan_class(instrument: Instrument) -> type[BodyPlan]:
    """The body plan that draws ``instrument``, decided by its label-space fields.

    ``drum_kit`` -> drum kit; ``bow`` among the playing tools -> bowed strings; ``valves`` -> brass;
    ``holes`` -> side-blown; ``mouthpiece`` -> reed; ``body`` (bellows) -> accordion; ``keys`` on a
    non-portable instrument -> keyboard; otherwise strings -> plucked.
    """
    regions = {r.lower() for r in instrument.action_regions}
    tools = {t.lower() for t in instrument.playing_tools}
    if instrument.drum_kit or any("skin" in r for r in regions):
        return DrumKit
    if "bow" in tools:
        return Bowed
    if "valves" in regions:
        return Brass
    if "holes" in regions:
        return SideBlown
    if "mouthpiece" in regions:
        return Reed
    if "body" in regions:
        return Bellows
    if "keys" in regions and not instrument.portable:
        return Keyboard
    if "keys" in regions:
        return Bellows
    return Plucked
