"""Keyboard instruments: a stage keyboard / piano and the accordion.

Piano key points (§4.2.3): the hands on the keys. Accordion key points: both hands and the centre
of the bellows, whose opening and closing is itself a sign of playing.
"""

from __future__ import annotations

import numpy as np

from ipd.synth import canvas as cv
from ipd.synth import music
from ipd.synth.plans.base import BodyPlan, NoteTrack, Pose, glide
from ipd.synth.textures import Pattern, SpriteBuilder, jitter

BLACK_KEYS = {1, 3, 6, 8, 10}  # pitch classes of the black keys
WHITE_KEY = np.array([240.0, 238.0, 228.0])


def _hand_track(track: NoteTrack, split: int) -> tuple[NoteTrack, NoteTrack]:
    """Notes below ``split`` are played by the left hand, the rest by the right."""
    return (NoteTrack([n for n in track.notes if n.pitch < split]),
            NoteTrack([n for n in track.notes if n.pitch >= split]))  # fmt: skip


def _follow(track: NoteTrack, t: float, position, default: float) -> tuple[float, float, float]:
    """``(position, press, arc)`` of a hand playing ``track``: it travels to each note in an arc
    (``arc`` 0..1, lifted mid-way) ending at the onset, then presses (``press`` 1 at the onset,
    decaying), as a pianist's hand lifts between notes and drops onto the keys."""
    i = track.last(t + 0.25)
    if i < 0:
        return default, 0.0, 0.0
    onset = track.onsets[i]
    gap = onset - track.onsets[i - 1] if i > 0 else 0.5
    travel = min(0.25, 0.7 * gap)
    target = position(track.pitches[i])
    prev = position(track.pitches[i - 1]) if i > 0 else target
    x = 1.0 - (onset - t) / travel
    pos = float(glide(prev, target, x))
    arc = float(np.sin(np.pi * np.clip(x, 0, 1))) if t < onset else 0.0
    press = float(np.exp(-(t - onset) / 0.12)) if t >= onset else 0.0
    j = track.last(t)  # a press of the previous note still decaying while the hand travels
    if t < onset and j >= 0:
        press = float(np.exp(-(t - track.onsets[j]) / 0.12))
    return pos, press, arc


class Keyboard(BodyPlan):
    """A keyboard the seated player sits behind; each hand moves to its notes and dips on onsets;
    the pressed keys darken. An ADJUST stretch turns a page of the sheet music."""

    portable = False
    seated = True

    def __init__(self, instrument, rng, unit):
        super().__init__(instrument, rng, unit)
        u = unit
        self.lo, self.hi = instrument.pitch_range
        whites = [p for p in range(self.lo, self.hi + 1) if p % 12 not in BLACK_KEYS]
        self.kw = 3.4 * u
        self.half = len(whites) * self.kw / 2
        case = jitter(rng, [(22, 22, 24), (95, 52, 28), (230, 230, 232), (150, 25, 30)]
                      [rng.integers(4)], 0.02, 0.15, 0.1)  # fmt: skip
        self.extent = (-self.half - 4 * u, -6 * u, self.half + 4 * u, 32 * u)
        b = SpriteBuilder(rng, self.extent)
        ctex = b.texture(Pattern.GRAIN, case, case * 0.8 + 10, period=3 * u)
        b.polygon([(-self.half - 4 * u, -6 * u), (self.half + 4 * u, -6 * u),
                   (self.half + 4 * u, 14 * u), (-self.half - 4 * u, 14 * u)], ctex)  # fmt: skip
        for s in (-1, 1):  # legs / stand
            b.line((s * (self.half - 2 * u), 14 * u), (s * (self.half - 2 * u), 31 * u), 2 * u,
                   case * 0.7)  # fmt: skip
        b.polygon([(-self.half, 0), (self.half, 0), (self.half, 11 * u), (-self.half, 11 * u)],
                  WHITE_KEY)  # fmt: skip
        for i in range(len(whites) + 1):
            x = -self.half + i * self.kw
            b.line((x, 0), (x, 11 * u), max(1.0, 0.35 * u), (90, 90, 90))
        for p in range(self.lo, self.hi + 1):
            if p % 12 in BLACK_KEYS:
                x = self.key_x(p)
                b.polygon([(x - 0.9 * u, 0), (x + 0.9 * u, 0), (x + 0.9 * u, 6.5 * u),
                           (x - 0.9 * u, 6.5 * u)], (15, 15, 15))  # fmt: skip
        self.sprite = b.build()
        side = 1.0 if rng.random() < 0.5 else -1.0
        self.sheet = np.array([side * (self.half - 9 * u), -3.0 * u])  # music on the case
        sb = SpriteBuilder(rng, (-7 * u, -2.5 * u, 7 * u, 2.5 * u))
        sb.polygon(
            [(-7 * u, -2.5 * u), (7 * u, -2.5 * u), (7 * u, 2.5 * u), (-7 * u, 2.5 * u)],
            sb.texture(Pattern.STRIPES, (245, 245, 240), (60, 60, 60), 1.3 * u),
        )
        self.sheet_sprite = sb.build()
        self.inst_offset = np.array([0.0, -12.0]) * u  # the torso behind the keys
        self.adjust_point = self.sheet
        self.adjust_hand = 1 if side > 0 else 0

    def key_x(self, pitch: int) -> float:
        """x (local px) of the centre of key ``pitch``."""
        whites = sum(1 for p in range(self.lo, pitch) if p % 12 not in BLACK_KEYS)
        offset = 0.0 if pitch % 12 in BLACK_KEYS else 0.5
        return -self.half + (whites + offset) * self.kw

    def compose(self, rng, start, end, beat, velocity):
        return music.two_hands(rng, start, end, beat, self.instrument.pitch_range, velocity)

    def bind(self, timeline):
        super().bind(timeline)
        self.hands_track = _hand_track(self.track, (self.lo + self.hi) // 2)

    def pose(self, t):
        u = self.unit
        hands, fingers = [], []
        for j, track in enumerate(self.hands_track):
            x, press, arc = _follow(track, t, self.key_x, (-0.4 if j == 0 else 0.4) * self.half)
            hand = np.array([x, 5.0 * u + 2.5 * u * press - 4.0 * u * arc])
            hands.append(hand)
            for f in range(4):
                fx = x + (f - 1.5) * 1.6 * u
                fingers.append((np.array([fx, hand[1] + (2.4 + (1.4 * press if f == 1 else 0))
                                          * u]), 0.8 * u))  # fmt: skip
        return Pose(np.array(hands), [], [hands[0], hands[1]], fingers)

    def draw(self, img, to_frame, t, w, wobble, mask=None):
        cv.paste(img, self.sprite, to_frame, mask)
        u = self.unit
        for i in self.track.sounding(t):
            x = self.key_x(int(self.track.pitches[i]))
            black = int(self.track.pitches[i]) % 12 in BLACK_KEYS
            half = 0.9 * u if black else 0.5 * self.kw - 0.5
            depth = 6.5 * u if black else 11 * u
            shade = (60, 60, 60) if black else (175, 172, 165)
            cv.polygon(
                img,
                cv.apply(
                    to_frame, [(x - half, 0), (x + half, 0), (x + half, depth), (x - half, depth)]
                ),
                shade,
            )
        cv.paste(img, self.sheet_sprite, cv.compose(to_frame, cv.affine(0, *self.sheet)))
        if abs(wobble) > 0.02:  # a page being turned: a second sheet swinging across
            page = cv.compose(
                to_frame,
                cv.affine(
                    0, self.sheet[0] + 3.5 * u * wobble, self.sheet[1] - 1.5 * u * abs(wobble)
                ),
            )
            cv.paste(img, self.sheet_sprite, page)


class Bellows(BodyPlan):
    """Accordion worn on the chest: the keyboard half (hand 0) and the bass half (hand 1) are pulled
    apart and pushed together, reversing every two beats while played; the right hand moves along
    the vertical keyboard with the pitch."""

    def __init__(self, instrument, rng, unit):
        super().__init__(instrument, rng, unit)
        u = unit
        body = jitter(rng, [(175, 25, 32), (25, 25, 28), (30, 60, 140), (30, 110, 60)]
                      [rng.integers(4)], 0.02, 0.15, 0.15)  # fmt: skip
        self.pleat = (np.array([35.0, 35.0, 40.0]), jitter(rng, (215, 210, 200), 0.01, 0.1, 0.1))
        self.h = 17 * u
        self.b_rest, self.b_range = 12 * u, (8 * u, 24 * u)
        kb = SpriteBuilder(rng, (-12 * u, -self.h, 0, self.h))
        kb.polygon([(-12 * u, -self.h), (0, -self.h), (0, self.h), (-12 * u, self.h)],
                   kb.texture(Pattern.METAL, body, body * 0.6, 2 * u))  # fmt: skip
        kb.polygon([(-12 * u, -self.h + 2 * u), (-8 * u, -self.h + 2 * u),
                    (-8 * u, self.h - 2 * u), (-12 * u, self.h - 2 * u)], WHITE_KEY)  # fmt: skip
        for y in np.arange(-self.h + 2 * u, self.h - 2 * u, 2.2 * u):
            kb.line((-12 * u, y), (-9.5 * u, y), max(1.0, 0.5 * u), (20, 20, 20))
        self.keys_sprite = kb.build()
        bb = SpriteBuilder(rng, (0, -self.h, 12 * u, self.h))
        bb.polygon([(0, -self.h), (12 * u, -self.h), (12 * u, self.h), (0, self.h)],
                   bb.texture(Pattern.METAL, body, body * 0.6, 2 * u))  # fmt: skip
        for x in (3 * u, 6 * u):
            for y in np.arange(-self.h + 4 * u, self.h - 3 * u, 3 * u):
                bb.ellipse((x, y), (0.9 * u, 0.9 * u), (235, 235, 225))
        bb.line((9.5 * u, -self.h + 2 * u), (9.5 * u, self.h - 2 * u), 2.2 * u, (60, 40, 25))
        self.bass_sprite = bb.build()
        self.extent = (-self.b_range[1] / 2 - 12 * u, -self.h, self.b_range[1] / 2 + 12 * u,
                       self.h)  # fmt: skip
        self.play_angle = rng.uniform(-6, 6)
        self.inst_offset = np.array([0.0, 6.0]) * u
        self.hold_delta = (0.0, 2 * u, -4.0)
        self.grips = [np.array([-self.b_rest / 2 - 10 * u, 0.0]),
                      np.array([self.b_rest / 2 + 9.5 * u, 0.0])]  # fmt: skip
        self.adjust_point = np.array([self.b_rest / 2 + 6 * u, -self.h])
        self.contact_rgb = [self.pleat[0], self.pleat[1]]

    def compose(self, rng, start, end, beat, velocity):
        return music.two_hands(rng, start, end, beat, self.instrument.pitch_range, velocity)

    def bind(self, timeline):
        super().bind(timeline)
        lo, hi = self.instrument.pitch_range
        self.hands_track = _hand_track(self.track, (lo + hi) // 2)
        times, values = [], []
        b_lo, b_hi = self.b_range
        for p in timeline.phrases:  # reverse direction every two beats, in time with the music
            t, opening = p.start, True
            values_p = [self.b_rest]
            times_p = [p.start]
            while t < p.end:
                t = min(p.end, t + 2 * timeline.beat_s)
                values_p.append(b_hi if opening else b_lo)
                times_p.append(t)
                opening = not opening
            times += times_p
            values += values_p
        self.b_times, self.b_values = np.array(times or [0.0]), np.array(values or [self.b_rest])

    def opening(self, t: float, w: float) -> float:
        """Bellows width (px) at ``t`` with playing weight ``w``."""
        played = float(np.interp(t, self.b_times, self.b_values))
        return self.b_rest + w * (played - self.b_rest)

    def pose(self, t):
        u = self.unit
        w = self.timeline.playing_weight(t) if self.timeline else 1.0
        b = self.opening(t, w)
        lo, hi = self.instrument.pitch_range
        y, press, arc = _follow(self.hands_track[1], t,
                           lambda p: (self.h - 3 * u) - (p - lo) / max(1, hi - lo) * 2 * (
                               self.h - 3 * u), 0.0)  # fmt: skip
        right = np.array([-b / 2 - 10 * u + 1.5 * u * press - 2.5 * u * arc, y])
        _, bass, _ = _follow(self.hands_track[0], t, lambda p: 0.0, 0.0)
        left = np.array([b / 2 + 9.5 * u + 0.8 * u * bass, 2.0 * u * np.sin(0.7 * t)])
        fingers = [(right + np.array([-1.5 * u, (f - 1) * 1.6 * u]), 0.8 * u) for f in range(3)]
        return Pose(np.array([right, left]), [], [right, left, np.zeros(2)], fingers)

    def draw(self, img, to_frame, t, w, wobble, mask=None):
        u = self.unit
        b = self.opening(t, w)
        n = 9  # pleats: their stripes stretch with the opening, texture that flow can follow
        xs = np.linspace(-b / 2, b / 2, n + 1)
        for i in range(n):
            rgb = self.pleat[i % 2]
            zig = 1.2 * u if i % 2 else 0.0
            quad = [
                (xs[i], -self.h + zig),
                (xs[i + 1], -self.h + 1.2 * u - zig),
                (xs[i + 1], self.h - 1.2 * u + zig),
                (xs[i], self.h - zig),
            ]
            pts = cv.apply(to_frame, quad)
            cv.polygon(img, pts, rgb)
            if mask is not None:
                cv.polygon(mask, pts, (255, 255, 255))
        cv.paste(img, self.keys_sprite, cv.compose(to_frame, cv.affine(0, -b / 2, 0)), mask)
        cv.paste(img, self.bass_sprite, cv.compose(to_frame, cv.affine(0, b / 2, 0)), mask)
