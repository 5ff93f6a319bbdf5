"""Wind instruments: side-blown (flute), reed (saxophone) and brass with valves (trumpet).

Local origin: the mouthpiece, which sits on the player's lips while played. Key points (§4.2.3,
winds): the mouth and the pressing hands. Fingers press or lift at every note change (a fingering
pattern derived from the pitch), and the instrument rocks gently with the beat.
"""

from __future__ import annotations

import numpy as np

from ipd.synth import canvas as cv
from ipd.synth import music
from ipd.synth.plans.base import BodyPlan, Pose, glide
from ipd.synth.textures import Pattern, SpriteBuilder, jitter

SILVER = (200, 200, 205)
GOLD = (210, 165, 60)
# valve combinations of the 7 semitones below an open note (standard brass fingering)
VALVES = ((0, 0, 0), (0, 1, 0), (1, 0, 0), (1, 1, 0), (0, 1, 1), (1, 0, 1), (1, 1, 1))


def _fingering(pitch: int, n: int) -> list[bool]:
    """Which of ``n`` fingers press at ``pitch`` (lower notes close more holes)."""
    closed = (96 - pitch) % (n + 1)
    pattern = [i < closed for i in range(n)]
    if pitch % 5 == 0 and n > 2:  # a cross fingering now and then
        pattern[1] = not pattern[1]
    return pattern


class Wind(BodyPlan):
    """Shared playing mechanics of the wind plans (subclasses draw and place the instrument)."""

    finger_spots: list[tuple[int, np.ndarray]]  # (hand, local key position) per finger
    lift: np.ndarray  # local offset of a lifted finger
    pressing_hands: tuple[int, ...] = (0, 1)

    def compose(self, rng, start, end, beat, velocity):
        return music.melody(rng, start, end, beat, self.instrument.pitch_range, velocity)

    def fingering(self, pitch: int) -> list[bool]:
        """Which fingers press for ``pitch``."""
        return _fingering(pitch, len(self.finger_spots))

    def pressed(self, t: float) -> np.ndarray:
        """How far each finger is pressed (0..1); fingers move in the 60 ms before an onset."""
        move = 0.06
        i = self.track.last(t + move)
        if i < 0:
            return np.zeros(len(self.finger_spots))
        new = np.array(self.fingering(int(self.track.pitches[i])), float)
        old = np.array(self.fingering(int(self.track.pitches[i - 1])), float) if i > 0 else new
        return old + (new - old) * float(glide(0.0, 1.0, (t - self.track.onsets[i] + move) / move))

    def sway(self, t: float) -> tuple[float, float, float]:
        beat = self.timeline.beat_s if self.timeline else 0.5
        return (0.0, 0.0, 3.5 * np.sin(2 * np.pi * t / (4 * beat)))

    def pose(self, t):
        pressed = self.pressed(t)
        fingers = []
        for (_, spot), down in zip(self.finger_spots, pressed, strict=True):
            fingers.append((spot + self.lift * (1 - down), 1.0 * self.unit))
        hands = self.hand_spots.copy()
        for h in (0, 1):  # a hand follows its fingers a little
            mine = [d for (hh, _), d in zip(self.finger_spots, pressed, strict=True) if hh == h]
            if mine:
                hands[h] = hands[h] + self.lift * 0.25 * (1 - np.mean(mine))
        kps = [self.mouth] + [hands[h] for h in self.pressing_hands]
        return Pose(hands, [], kps, fingers)

    def draw(self, img, to_frame, t, w, wobble, mask=None):
        cv.paste(img, self.sprite, to_frame, mask)


class SideBlown(Wind):
    """Flute-like: a long tube held sideways from the lips, both hands along it."""

    def __init__(self, instrument, rng, unit):
        super().__init__(instrument, rng, unit)
        u = unit
        metal = jitter(rng, SILVER, 0.02, 0.2, 0.08)
        self.extent = (-63 * u, -4 * u, 9 * u, 4 * u)
        b = SpriteBuilder(rng, self.extent)
        tex = b.texture(Pattern.METAL, metal, metal * 0.55, 2 * u)
        b.polygon([(8 * u, -1.4 * u), (-62 * u, -1.3 * u), (-62 * u, 1.3 * u), (8 * u, 1.4 * u)],
                  tex)  # fmt: skip
        b.ellipse((0, -0.6 * u), (2.2 * u, 1.6 * u), metal * 0.8)  # lip plate
        b.ellipse((0, -0.9 * u), (0.8 * u, 0.6 * u), (30, 30, 30))  # embouchure hole
        for x in (-24, -31, -49, -55):
            b.ellipse((x * u, -0.8 * u), (0.9 * u, 0.9 * u), metal * 0.6)
        spots = [(1, x) for x in (-14, -17.5, -21)] + [(0, x) for x in (-37, -40.5, -44)]
        self.finger_spots = [(h, np.array([x * u, -1.0 * u])) for h, x in spots]
        for _, p in self.finger_spots:
            b.ellipse(p, (1.0 * u, 1.0 * u), metal * 0.6)
        self.sprite = b.build()
        self.lift = np.array([0.0, -3.0 * u])
        self.hand_spots = np.array([[-40.5 * u, 2.2 * u], [-17.5 * u, 2.2 * u]])
        self.mouth = np.zeros(2)
        self.play_angle = rng.uniform(-14, -4)
        self.place_mouth(np.array([0.0, -26.5 * u]))
        self.hold_delta = (3 * u, 16 * u, -30.0)
        self.grips = [self.hand_spots[0], self.hand_spots[1]]
        self.adjust_point = np.array([6 * u, 0.0])
        self.adjust_hand = 1


class Reed(Wind):
    """Saxophone-like: mouthpiece and neck at the lips, a conical body hanging down, a U-bend and
    an upturned bell; keys pressed by both hands along the body."""

    def __init__(self, instrument, rng, unit):
        super().__init__(instrument, rng, unit)
        u = unit
        brass = jitter(rng, GOLD, 0.02, 0.2, 0.1)
        self.extent = (-20 * u, -2 * u, 10 * u, 56 * u)
        b = SpriteBuilder(rng, self.extent)
        tex = b.texture(Pattern.METAL, brass, brass * 0.55, 2 * u)
        b.line((0, 0), (-1 * u, 4 * u), 1.8 * u, (25, 25, 25))  # mouthpiece
        b.line((-1 * u, 4 * u), (-5 * u, 10 * u), 2.2 * u, tex)  # neck
        b.polygon([(-3 * u, 10 * u), (-7 * u, 10 * u), (-17.5 * u, 44 * u), (-8.5 * u, 44 * u)],
                  tex)  # fmt: skip
        b.ellipse((-9 * u, 47 * u), (8.5 * u, 6.5 * u), tex)  # U-bend
        b.polygon([(-5 * u, 48 * u), (3 * u, 48 * u), (8 * u, 34 * u), (-4 * u, 34 * u)], tex)
        b.ellipse((2 * u, 34 * u), (6 * u, 2 * u), brass * 0.45)  # bell opening
        spots = [(1, (-7.2, 17)), (1, (-8.2, 21)), (1, (-9.2, 25)),
                 (0, (-11.5, 32)), (0, (-12.5, 36)), (0, (-13.5, 40))]  # fmt: skip
        self.finger_spots = [(h, np.array([x * u, y * u])) for h, (x, y) in spots]
        for _, p in self.finger_spots:
            b.ellipse(p, (1.3 * u, 1.3 * u), (235, 228, 205))
        self.sprite = b.build()
        self.lift = np.array([3.0 * u, 0.0])
        self.hand_spots = np.array([[-9.5 * u, 36 * u], [-5.5 * u, 21 * u]])
        self.mouth = np.zeros(2)
        self.play_angle = rng.uniform(-4, 12)
        self.place_mouth(np.array([0.0, -26.5 * u]))
        self.hold_delta = (6 * u, 8 * u, 12.0)
        self.grips = [self.hand_spots[0], self.hand_spots[1]]
        self.adjust_point = np.array([-2 * u, 6 * u])  # the ligature / neck screw
        self.adjust_hand = 1


class Brass(Wind):
    """Trumpet-like: lead pipe from the lips, three valves under one hand's fingers, a flared bell;
    the other hand holds the valve casing. Key points: mouth and the valve hand."""

    pressing_hands = (1,)

    def __init__(self, instrument, rng, unit):
        super().__init__(instrument, rng, unit)
        u = unit
        metal = jitter(rng, GOLD if rng.random() < 0.75 else SILVER, 0.02, 0.15, 0.1)
        self.extent = (-50 * u, -10 * u, 2 * u, 10 * u)
        b = SpriteBuilder(rng, self.extent)
        tex = b.texture(Pattern.METAL, metal, metal * 0.55, 2 * u)
        b.line((0, 0), (-3 * u, 0), 1.6 * u, (190, 190, 195))  # mouthpiece
        b.line((-3 * u, 0), (-36 * u, 0), 2.0 * u, tex)
        b.line((-8 * u, 5 * u), (-34 * u, 5 * u), 2.0 * u, tex)
        b.line((-34 * u, 0), (-34 * u, 5 * u), 2.0 * u, tex)
        b.polygon([(-35 * u, -1 * u), (-48 * u, -8 * u), (-48 * u, 8 * u), (-35 * u, 1 * u)], tex)
        b.ellipse((-48 * u, 0), (1.6 * u, 8 * u), metal * 0.5)  # bell rim
        self.valve_x = np.array([-10.0, -13.5, -17.0]) * u
        for x in self.valve_x:
            b.polygon([(x - 1.4 * u, -5 * u), (x + 1.4 * u, -5 * u), (x + 1.4 * u, 7 * u),
                       (x - 1.4 * u, 7 * u)], tex)  # fmt: skip
        self.sprite = b.build()
        self.cap_rgb = (235, 228, 205)
        self.finger_spots = [(1, np.array([x, -7.0 * u])) for x in self.valve_x]
        self.lift = np.array([0.0, -2.2 * u])
        self.hand_spots = np.array([[-14 * u, 9.5 * u], [-13.5 * u, -10.5 * u]])
        self.mouth = np.zeros(2)
        self.play_angle = rng.uniform(-5, 12)
        self.place_mouth(np.array([0.0, -26.5 * u]))
        self.hold_delta = (-2 * u, 14 * u, -30.0)
        self.grips = [self.hand_spots[0], None]
        self.adjust_point = np.array([-34 * u, 2.5 * u])  # the tuning slide
        self.adjust_hand = 1

    def fingering(self, pitch: int) -> list[bool]:
        return [bool(v) for v in VALVES[(self.instrument.pitch_range[1] - pitch) % 7]]

    def draw(self, img, to_frame, t, w, wobble, mask=None):
        cv.paste(img, self.sprite, to_frame, mask)
        u = self.unit
        for x, down in zip(self.valve_x, self.pressed(t), strict=True):  # piston caps
            y = (-7.0 + 1.5 * down) * u
            cap = cv.apply(to_frame, [(x - 1.6 * u, y - 1.0 * u), (x + 1.6 * u, y - u),
                                      (x + 1.6 * u, y + u), (x - 1.6 * u, y + u)])  # fmt: skip
            cv.polygon(img, cap, self.cap_rgb)
            if mask is not None:
                cv.polygon(mask, cap, (255, 255, 255))
