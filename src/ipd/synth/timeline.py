"""When the musician plays and what they do in between: phrases, silent stretches, activities.

A video alternates played phrases (the instrument sounds from the first onset to the last note-off)
and silent stretches. In a silent stretch the instrument stays in view but the player does something
else (an :class:`Activity`): the stretches are why the four training targets differ. Video tags say
"violin" for every frame (VT), the sound says "now" only during phrases (ST, SOT).

Every quantity is a smooth function of continuous time ``t`` (seconds), so the renderer can draw any
frame and the annotator can annotate any analysis time from the same state.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

RAMP_S = 0.5  # s to bring the instrument / hands into playing position before a phrase (and back)


class Activity(Enum):
    """What the player does during a silent stretch."""

    IDLE = "idle"  # stands or sits still, breathing
    SWAY = "sway"  # moves the body to the music of others, nods
    WALK = "walk"  # walks away and back (carrying a portable instrument)
    HANDLE = "handle"  # lifts / tilts / inspects the instrument: instrument-shaped motion, no sound
    ADJUST = "adjust"  # one hand fiddles with a part away from the contact points (pegs, cymbal)


@dataclass(frozen=True)
class Note:
    """One MIDI note: times in seconds from the start of the video."""

    onset: float
    offset: float
    pitch: int
    velocity: int


@dataclass(frozen=True)
class Phrase:
    """A played stretch; the instrument is audible in ``[start, end)``."""

    start: float
    end: float
    notes: tuple[Note, ...]


@dataclass(frozen=True)
class Silence:
    """A silent stretch ``[start, end)`` and the activity the player does in it."""

    start: float
    end: float
    activity: Activity
    direction: float = 1.0  # walk / tilt direction (+1 or -1)
    rate_hz: float = 0.5  # speed of the activity's oscillation


def smoothstep(x):
    """0 below 0, 1 above 1, cubic in between (C1-continuous)."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


@dataclass(frozen=True)
class Timeline:
    """The musical timeline of one video."""

    duration: float
    tempo_bpm: float
    phrases: tuple[Phrase, ...]
    silences: tuple[Silence, ...]

    @property
    def beat_s(self) -> float:
        return 60.0 / self.tempo_bpm

    @property
    def notes(self) -> tuple[Note, ...]:
        return tuple(n for p in self.phrases for n in p.notes)

    def intervals(self) -> list[tuple[float, float]]:
        """Sound-activity intervals ``[start, end)`` in seconds."""
        return [(p.start, p.end) for p in self.phrases]

    def sounding(self, t: float) -> bool:
        """True when the instrument is audible at ``t`` (the key-point rule)."""
        return any(p.start <= t < p.end for p in self.phrases)

    def phrase_at(self, t: float) -> Phrase | None:
        """The phrase whose playing ramp or body contains ``t``."""
        for p in self.phrases:
            if p.start - RAMP_S <= t < p.end + RAMP_S:
                return p
        return None

    def playing_weight(self, t: float) -> float:
        """1 while playing, 0 when not, a smooth ramp of ``RAMP_S`` before and after a phrase.

        The ramps lie outside the phrase, so every sounding frame shows the full playing pose.
        """
        w = 0.0
        for p in self.phrases:
            w = max(w, float(smoothstep((t - p.start + RAMP_S) / RAMP_S)
                             * smoothstep((p.end + RAMP_S - t) / RAMP_S)))  # fmt: skip
        return w

    def silence_at(self, t: float) -> Silence | None:
        for s in self.silences:
            if s.start <= t < s.end:
                return s
        return None

    def activity_envelope(self, s: Silence, t: float) -> float:
        """0..1 strength of ``s``'s activity at ``t``: it fades in after the previous phrase's ramp
        and out before the next phrase's ramp, so playing never overlaps it."""
        a = s.start + (RAMP_S if s.start > 0 else 0.0)
        b = s.end - (RAMP_S if s.end < self.duration else 0.0)
        r = max(1e-3, min(0.5, (b - a) / 2))
        return float(smoothstep((t - a) / r) * smoothstep((b - t) / r))


def sample_segments(
    rng: np.random.Generator,
    duration: float,
    phrase_s: tuple[float, float],
    silence_s: tuple[float, float],
) -> list[tuple[float, float, bool]]:
    """Alternating ``(start, end, is_phrase)`` segments covering ``[0, duration)``.

    Every video gets at least one phrase and one silent stretch, so each test video has both
    positive and negative analysis frames (a video without both has no temporal AUC).
    """
    for _ in range(100):
        playing = bool(rng.random() < 0.5)
        t, segs = 0.0, []
        while t < duration - 1e-6:
            lo, hi = phrase_s if playing else silence_s
            end = min(duration, t + rng.uniform(lo, hi))
            segs.append((t, end, playing))
            t, playing = end, not playing
        # a clipped sliver at the end is merged into its neighbour
        if len(segs) > 1 and segs[-1][1] - segs[-1][0] < 1.0:
            start = segs[-2][0]
            segs = segs[:-2] + [(start, duration, segs[-2][2])]
        ok_phrase = any(p and e - s >= 1.5 for s, e, p in segs)
        ok_silence = any(not p and e - s >= 1.0 for s, e, p in segs)
        if ok_phrase and ok_silence:
            return segs
    half = duration / 2
    return [(0.0, half, True), (half, duration, False)]


def sample_activity(
    rng: np.random.Generator, length: float, p_handle, p_walk, p_adjust
) -> Activity:
    """Draw a silent stretch's activity (walks need 2.5 s to go and come back)."""
    u = rng.random()
    if u < p_handle:
        return Activity.HANDLE
    if u < p_handle + p_walk:
        return Activity.WALK if length >= 2.5 else Activity.SWAY
    if u < p_handle + p_walk + p_adjust:
        return Activity.ADJUST
    return Activity.SWAY if rng.random() < 0.5 else Activity.IDLE
