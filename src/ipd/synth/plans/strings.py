"""String instruments: bowed (violin, cello) and plucked / strummed (guitar).

Local frame: x runs along the strings from the tail (negative) to the scroll / headstock, y across
them. Key points (dissertation §4.2.3, strings): the pressing hand on the neck and the intersection
of the bow (or strumming hand) with the strings.
"""

from __future__ import annotations

import numpy as np

from ipd.synth import canvas as cv
from ipd.synth import music
from ipd.synth.plans.base import BodyPlan, Pose, ToolSpec, glide
from ipd.synth.textures import Pattern, SpriteBuilder, jitter

BOW_HAIR = np.array([232.0, 222.0, 196.0])
STRING_RGB = (200, 200, 190)


def _string_body(b: SpriteBuilder, u: float, lower, upper, wood, dark) -> None:
    """Two bouts and a waist (the figure-8 outline of violins, cellos and guitars)."""
    tex = b.texture(Pattern.GRAIN, wood, wood * 0.72, period=2.5 * u)
    b.ellipse(lower[0], lower[1], tex)
    b.ellipse(upper[0], upper[1], tex)
    half = min(lower[1][1], upper[1][1]) * 0.7
    b.polygon([(lower[0][0], -half), (upper[0][0], -half), (upper[0][0], half),
               (lower[0][0], half)], tex)  # fmt: skip
    del dark


class Bowed(BodyPlan):
    """Violin-like (held under the chin) or, for a low pitch range, cello-like (upright, seated).

    Playing: the bow moves along its own axis through the contact point, reversing direction at
    every note onset; the pressing hand slides along the fingerboard with the pitch (vibrato on
    held notes).
    """

    def __init__(self, instrument, rng, unit):
        super().__init__(instrument, rng, unit)
        self.upright = instrument.pitch_range[0] < 48  # cello range: an upright, seated instrument
        self.seated = self.upright
        k = unit * (2.0 if self.upright else 1.0)
        self.k = k
        wood = jitter(rng, (110, 45, 22) if self.upright else (175, 88, 30), 0.02, 0.2, 0.2)
        self.extent = (-19 * k - (14 * k if self.upright else 0), -9 * k, 33 * k, 9 * k)
        b = SpriteBuilder(rng, self.extent)
        if self.upright:  # endpin down to the floor
            b.line((-17 * k, 0), (-31 * k, 0), 1.2 * unit, (90, 90, 90))
        _string_body(b, k, ((-9 * k, 0), (10 * k, 8.5 * k)), ((5 * k, 0), (8 * k, 7 * k)), wood,
                     wood * 0.5)  # fmt: skip
        ebony = (25, 20, 18)
        b.polygon([(-17 * k, -2 * k), (-11 * k, -1.5 * k), (-11 * k, 1.5 * k), (-17 * k, 2 * k)],
                  ebony)  # fmt: skip
        b.polygon([(-3 * k, -1.7 * k), (26 * k, -1.2 * k), (26 * k, 1.2 * k), (-3 * k, 1.7 * k)],
                  ebony)  # fmt: skip
        b.polygon([(26 * k, -1.2 * k), (30 * k, -1.0 * k), (30 * k, 1.0 * k), (26 * k, 1.2 * k)],
                  wood * 0.8)  # fmt: skip
        b.ellipse((31.5 * k, 0), (2.2 * k, 2.0 * k), wood * 0.8)
        for s in (-1, 1):
            b.line((-6 * k, s * 4.5 * k), (-3 * k, s * 4.0 * k), 0.6 * k, (30, 15, 10))
        b.line((-8 * k, -3.8 * k), (-8 * k, 3.8 * k), 0.9 * k, (225, 200, 150))  # bridge
        self.strings_y = np.array([1.2, 0.4, -0.4, -1.2]) * k  # low -> high string
        for y in self.strings_y:
            b.line((-12 * k, y), (29 * k, y * 0.8), max(1.0, 0.35 * k), STRING_RGB)
        self.sprite = b.build()
        self.contact_x = -5.5 * k
        self.neck = (24 * k, 6 * k)  # pressing-hand x: lowest position -> highest position
        self.bow_side = 1.0 if self.upright else -1.0
        self.bow_tilt = rng.uniform(-0.2, 0.2)
        bow_len = (64 if self.upright else 48) * unit
        self.bow_range = (0.1, 0.5) if self.upright else (0.15, 0.85)
        self.tools = [ToolSpec(0, bow_len, 1.6 * unit, np.array([70.0, 40.0, 20.0]),
                               hair_rgb=BOW_HAIR, rest_angle=100.0)]  # fmt: skip
        if self.upright:
            self.play_angle = rng.uniform(-80, -72)  # the neck passes beside the player's head
            self.inst_offset = np.array([6.0, 14.0]) * unit
        else:
            self.play_angle = rng.uniform(18, 35)
            chin = np.array([4.0, -22.0]) * unit
            self.inst_offset = chin - cv.apply(cv.affine(self.play_angle), (-17 * k, 0.0))
            self.hold_delta = (5 * unit, 16 * unit, 40.0)
        self.grips = [None, np.array([20 * k, 3 * k])]
        self.adjust_point = np.array([31.5 * k, 0.0])
        self.contact_rgb = [BOW_HAIR]

    def compose(self, rng, start, end, beat, velocity):
        return music.melody(rng, start, end, beat, self.instrument.pitch_range, velocity)

    def bind(self, timeline):
        super().bind(timeline)
        # bow position (fraction of the bow at the contact point) at each onset and note end
        lo, hi = self.bow_range
        self.bow_at = []
        pos, direction = (lo + hi) / 2, 1.0
        for n in self.track.notes:
            span = min(hi - lo, 0.15 + 0.35 * (n.offset - n.onset) / timeline.beat_s)
            if not lo <= pos + direction * span <= hi:
                direction = -direction
            end = float(np.clip(pos + direction * span, lo, hi))
            self.bow_at.append((pos, end))
            pos, direction = end, -direction

    def _string(self, pitch: int) -> tuple[int, float]:
        lo = self.instrument.pitch_range[0]
        s = int(np.clip((pitch - lo) // 7, 0, 3))
        frac = float(np.clip((pitch - lo - 7 * s) / 12.0, 0.0, 1.0))
        return s, frac

    def pose(self, t):
        k, i = self.k, self.track.last(t)
        if i < 0:
            s, frac, along = 1, 0.3, sum(self.bow_range) / 2
        else:
            n = self.track.notes[i]
            s, frac = self._string(n.pitch)
            a, b = self.bow_at[i]
            along = a + (b - a) * float(np.clip((t - n.onset) / (n.offset - n.onset), 0, 1))
        contact = np.array([self.contact_x, self.strings_y[s]])
        d = np.array([self.bow_tilt, self.bow_side])
        d /= np.hypot(*d)
        bow_hand = contact - d * along * self.tools[0].length
        tip = bow_hand + d * self.tools[0].length
        x = self.neck[0] + (self.neck[1] - self.neck[0]) * frac
        x += 0.5 * k * np.sin(2 * np.pi * 5.5 * t)  # vibrato
        press = np.array([x, self.strings_y[s] + 3.0 * k])
        fingers = [(np.array([x - 1.2 * k, self.strings_y[s]]), 1.0 * self.unit)]
        return Pose(np.array([bow_hand, press]), [tip], [contact, press], fingers)

    def draw(self, img, to_frame, t, w, wobble, mask=None):
        cv.paste(img, self.sprite, to_frame, mask)


class Plucked(BodyPlan):
    """Guitar-like: body across the torso, neck up to the side; one hand strums across the strings
    at every chord onset (alternating down / up strokes), the other frets the chord."""

    def __init__(self, instrument, rng, unit):
        super().__init__(instrument, rng, unit)
        u = unit
        finishes = ((200, 140, 70), (165, 35, 30), (35, 32, 30), (220, 215, 200), (40, 70, 150))
        wood = jitter(rng, finishes[rng.integers(len(finishes))], 0.02, 0.2, 0.15)
        self.extent = (-25 * u, -13 * u, 59 * u, 13 * u)
        b = SpriteBuilder(rng, self.extent)
        _string_body(b, u, ((-10 * u, 0), (14 * u, 12 * u)), ((6 * u, 0), (10 * u, 9.5 * u)),
                     wood, wood)  # fmt: skip
        b.ellipse((3 * u, 0), (4.5 * u, 4.5 * u), (20, 15, 10))  # sound hole
        b.polygon([(-13 * u, -3 * u), (-11 * u, -3 * u), (-11 * u, 3 * u), (-13 * u, 3 * u)],
                  (40, 25, 15))  # fmt: skip
        neck = b.texture(Pattern.GRAIN, (120, 75, 40), (90, 55, 30), period=2.0 * u)
        b.polygon([(13 * u, -2.3 * u), (50 * u, -2.0 * u), (50 * u, 2.0 * u), (13 * u, 2.3 * u)],
                  neck)  # fmt: skip
        for x in np.linspace(16, 48, 9):
            b.line((x * u, -2.1 * u), (x * u, 2.1 * u), max(1.0, 0.3 * u), (200, 200, 190))
        b.polygon([(50 * u, -2.4 * u), (58 * u, -3.2 * u), (58 * u, 3.2 * u), (50 * u, 2.4 * u)],
                  wood * 0.6)  # fmt: skip
        self.strings_y = np.linspace(1.8, -1.8, 6) * u
        for y in self.strings_y:
            b.line((-12 * u, y), (50 * u, y), max(1.0, 0.3 * u), STRING_RGB)
        self.sprite = b.build()
        self.play_angle = rng.uniform(-28, -12)
        self.inst_offset = np.array([-7.0, 9.0]) * u
        self.hold_delta = (0.0, 2 * u, 6.0)
        self.strum_x = -3.0 * u
        self.grips = [np.array([-9 * u, -10 * u]), np.array([40 * u, 3 * u])]
        self.adjust_point = np.array([55 * u, 0.0])
        lo, hi = instrument.pitch_range
        self.root_range = (lo, max(lo + 1, hi - 12))

    def compose(self, rng, start, end, beat, velocity):
        return music.strums(rng, start, end, beat, self.instrument.pitch_range, velocity)

    def bind(self, timeline):
        super().bind(timeline)
        # one stroke per chord: the notes starting within 60 ms of each other
        strokes, roots = [], []
        for n in self.track.notes:
            if strokes and n.onset - strokes[-1] < 0.06:
                roots[-1] = min(roots[-1], n.pitch)
                continue
            strokes.append(n.onset)
            roots.append(n.pitch)
        self.strokes = np.array(strokes)
        self.roots = np.array(roots)

    def pose(self, t):
        u = self.unit
        i = int(np.searchsorted(self.strokes, t + 0.06, side="right")) - 1
        reach = 7.5 * u
        if i < 0:
            y, root = -reach, self.root_range[0]
        else:
            sign = 1.0 if i % 2 == 0 else -1.0  # down strokes on even chords, up on odd
            y = float(glide(-sign * reach, sign * reach, (t - self.strokes[i] + 0.06) / 0.14))
            root = int(self.roots[i])
        strum = np.array([self.strum_x + 1.2 * u * np.sin(np.pi * y / reach), y])
        lo, hi = self.root_range
        frac = (root - lo) / max(1, hi - lo)
        nxt = min(i + 1, len(self.roots) - 1)
        if nxt > i >= 0 and self.strokes[nxt] - t < 0.12:  # slide to the next chord just before it
            frac2 = (int(self.roots[nxt]) - lo) / max(1, hi - lo)
            frac = float(glide(frac, frac2, 1 - (self.strokes[nxt] - t) / 0.12))
        x = (46 - 28 * frac) * u
        press = np.array([x, 3.0 * u])
        fingers = [
            (np.array([x + dx * u, dy * u]), 0.9 * u)
            for dx, dy in ((-2.0, 1.0 + (root % 2)), (0.0, -0.5), (2.0, 1.5 - (root % 3)))
        ]
        return Pose(np.array([strum, press]), [], [strum, press], fingers)

    def draw(self, img, to_frame, t, w, wobble, mask=None):
        cv.paste(img, self.sprite, to_frame, mask)
