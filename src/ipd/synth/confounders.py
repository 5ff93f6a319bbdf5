"""Motion that is not playing: audience, stage lights, a passer-by and camera shake.

These exist because real music videos have them (§4.3: a model trained with video tags may fire
on anything that moves in videos of a class). Audience, lights and shake are *class-correlated*
through :func:`context_rates` (a light show is more common in some genres than in others); the
passer-by is not. All of them stay away from the instrument: the layout hands each one a region
that excludes the player's group.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ipd.synth import canvas as cv
from ipd.synth.config import WorldConfig
from ipd.synth.player import HAIR, SKIN_TONES
from ipd.synth.textures import CLOTH_PATTERNS, SpriteBuilder, random_colour
from ipd.synth.timeline import Timeline, smoothstep

CONTEXT_KINDS = ("audience", "lights", "shake")


def context_rates(config: WorldConfig, class_index: int) -> dict[str, float]:
    """Probability of each class-correlated context for videos of class ``class_index``.

    Each (class, context) pair is drawn once per world seed as *frequent* or *rare*;
    ``context_bias`` blends the knob's base rate towards 0.9 (frequent) or 0.05 (rare).
    """
    rng = np.random.default_rng([config.seed, 7919, class_index])
    base = {"audience": config.p_audience, "lights": config.p_lights, "shake": config.p_shake}
    rates = {}
    for kind in CONTEXT_KINDS:
        target = 0.9 if rng.random() < 0.5 else 0.05
        rates[kind] = (1 - config.context_bias) * base[kind] + config.context_bias * target
    return rates


def _envelope(t: float, a: float, b: float, ramp: float) -> float:
    return float(smoothstep((t - a) / ramp) * smoothstep((b - t) / ramp))


@dataclass
class Region:
    """An axis-aligned frame region ``[x0, x1) x [y0, y1)`` (px)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def ok(self) -> bool:
        return self.x1 - self.x0 > 8 and self.y1 - self.y0 > 8


class Audience:
    """Backs of heads and shoulders along the bottom edge; they bob to the music and clap in the
    applause windows (heard in the audio as crowd noise)."""

    def __init__(self, rng, width: int, height: int, top: float, unit: float, beat: float,
                 applause: list[tuple[float, float]]):  # fmt: skip
        self.people = []
        n = int(rng.integers(4, 9))
        xs = np.sort(rng.uniform(0, width, n))
        for x in xs:
            r = rng.uniform(7, 10) * unit
            b = SpriteBuilder(rng, (-2.2 * r, -r, 2.2 * r, 3 * r))
            cloth = b.texture(
                CLOTH_PATTERNS[rng.integers(len(CLOTH_PATTERNS))],
                random_colour(rng, val=(0.15, 0.6)),
                random_colour(rng),
                3 * unit,
            )
            b.ellipse((0, 2.4 * r), (2.1 * r, 1.6 * r), cloth)
            b.ellipse((0, 0), (r, r * 1.1), np.asarray(HAIR[rng.integers(len(HAIR))], float))
            y = top + r * rng.uniform(1.0, 1.6)
            self.people.append((b.build(), x, y, r, rng.uniform(0, 2 * np.pi)))
        self.skin = np.asarray(SKIN_TONES[rng.integers(len(SKIN_TONES))], float)
        self.beat, self.applause, self.unit = beat, applause, unit

    def clapping(self, t: float) -> float:
        return max([_envelope(t, a, b, 0.2) for a, b in self.applause] + [0.0])

    def draw(self, img: np.ndarray, t: float, groove: float) -> None:
        clap = self.clapping(t)
        for sprite, x, y, r, ph in self.people:
            bob = groove * 0.35 * r * abs(np.sin(np.pi * t / self.beat + ph))
            dx = 0.25 * r * np.sin(0.6 * t + ph)
            cv.paste(img, sprite, cv.affine(0, x + dx, y - bob))
            if clap > 0.01:  # hands raised above the head, meeting ~5 times a second
                gap = 0.5 * r * (1 + np.cos(2 * np.pi * 5.0 * t + ph))
                for s in (-1, 1):
                    hand = (x + dx + s * (0.2 * r + gap * clap), y - bob - 1.6 * r * clap)
                    cv.disc(img, hand, 0.45 * r, self.skin)


class Lights:
    """Soft coloured spots sweeping over the backdrop inside ``region``; they pulse on the beat
    while the music plays (a light show)."""

    def __init__(self, rng, region: Region, unit: float, beat: float):
        self.spots = []
        size = int(24 * unit) | 1
        yy, xx = np.mgrid[-size : size + 1, -size : size + 1].astype(np.float32) / size
        for _ in range(int(rng.integers(1, 4))):
            sx, sy = rng.uniform(0.5, 1.0), rng.uniform(0.5, 1.0)
            blob = np.exp(-((xx / sx) ** 2 + (yy / sy) ** 2) * 3.0).astype(np.float32)
            rgb = random_colour(rng, sat=(0.6, 1.0), val=(0.8, 1.0))
            freq = rng.uniform(0.1, 0.35, 2)
            self.spots.append((blob, rgb, freq, rng.uniform(0, 2 * np.pi, 2)))
        self.region, self.beat = region, beat

    def draw(self, img: np.ndarray, t: float, groove: float) -> None:
        r = self.region
        for blob, rgb, freq, ph in self.spots:
            cx = r.x0 + (r.x1 - r.x0) * (0.5 + 0.45 * np.sin(2 * np.pi * freq[0] * t + ph[0]))
            cy = r.y0 + (r.y1 - r.y0) * (0.5 + 0.45 * np.sin(2 * np.pi * freq[1] * t + ph[1]))
            pulse = 0.55 + 0.25 * groove * (1 + np.cos(2 * np.pi * t / self.beat + ph[0]))
            # keep the light inside its region: the blob is clipped by a region-sized window
            sub = img[int(r.y0) : int(r.y1), int(r.x0) : int(r.x1)]
            cv.add_glow(sub, blob, (cx - int(r.x0), cy - int(r.y0)), rgb, pulse)


class Passerby:
    """Someone walking through ``region`` (in the background, away from the group) and back."""

    def __init__(self, rng, region: Region, floor_y: float, unit: float, duration: float):
        b = SpriteBuilder(rng, (-9 * unit, -40 * unit, 9 * unit, 30 * unit))
        cloth = b.texture(
            CLOTH_PATTERNS[rng.integers(len(CLOTH_PATTERNS))],
            random_colour(rng),
            random_colour(rng),
            3 * unit,
        )
        b.polygon([(-8 * unit, -22 * unit), (8 * unit, -22 * unit), (6 * unit, 10 * unit),
                   (-6 * unit, 10 * unit)], cloth)  # fmt: skip
        b.ellipse(
            (0, -30 * unit),
            (6 * unit, 7 * unit),
            np.asarray(SKIN_TONES[rng.integers(len(SKIN_TONES))], float),
        )
        self.sprite = b.build()
        self.trousers = random_colour(rng, val=(0.1, 0.4))
        self.region, self.floor_y, self.unit = region, floor_y, unit
        self.start = rng.uniform(0, max(0.1, duration - 6.0))
        self.speed = rng.uniform(15, 30) * unit  # px/s
        self.span = max(1.0, region.x1 - region.x0 - 16 * unit)

    def draw(self, img: np.ndarray, t: float) -> None:
        walked = (t - self.start) * self.speed
        if walked < 0 or walked > 2 * self.span:
            return
        along = walked if walked <= self.span else 2 * self.span - walked  # there and back
        x = self.region.x0 + 8 * self.unit + along
        y = self.floor_y - 30 * self.unit
        sub = img[:, int(self.region.x0) : int(self.region.x1)]
        xl = x - int(self.region.x0)
        step = 5 * self.unit * np.sin(2 * np.pi * walked / (14 * self.unit))
        for s in (-1, 1):
            cv.line(
                sub,
                (xl + 2 * s * self.unit, y + 8 * self.unit),
                (xl + s * step, y + 30 * self.unit),
                self.trousers,
                4 * self.unit,
            )
        cv.paste(sub, self.sprite, cv.affine(0, xl, y))


class CameraShake:
    """Hand-held camera: smooth random translation and roll in a few stretches of the video."""

    def __init__(self, rng, duration: float, unit: float):
        self.windows = []
        for _ in range(int(rng.integers(1, 4))):
            a = rng.uniform(0, max(0.1, duration - 1.0))
            self.windows.append((a, min(duration, a + rng.uniform(1.0, 4.0))))
        self.amp = rng.uniform(1.2, 3.0) * unit
        self.freq = rng.uniform(1.5, 6.0, (3, 3))
        self.phase = rng.uniform(0, 2 * np.pi, (3, 3))

    def offset(self, t: float) -> tuple[float, float, float]:
        """``(dx, dy, roll_deg)`` of the camera at ``t`` (zero outside the windows)."""
        env = max([_envelope(t, a, b, 0.3) for a, b in self.windows] + [0.0])
        if env == 0:
            return 0.0, 0.0, 0.0
        s = np.sin(2 * np.pi * self.freq * t + self.phase).sum(axis=1) / 3.0
        return float(env * self.amp * s[0]), float(env * self.amp * s[1]), float(env * 0.6 * s[2])

    def matrix(self, t: float, width: int, height: int) -> np.ndarray | None:
        """Frame -> shaken frame affine, or None when the camera is still."""
        dx, dy, roll = self.offset(t)
        if dx == 0 and dy == 0 and roll == 0:
            return None
        m = cv2.getRotationMatrix2D((width / 2, height / 2), roll, 1.0)
        m[:, 2] += (dx, dy)
        return m


def groove(timeline: Timeline, t: float) -> float:
    """How much the crowd and the lights move with the music at ``t`` (0 silent .. 1 playing)."""
    return timeline.playing_weight(t)
