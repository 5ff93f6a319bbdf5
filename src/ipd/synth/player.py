"""The musician: a textured torso, head, legs, two arms and two hands.

The body is laid out in *group* coordinates (pixels, origin at the group anchor, x towards image
right before the group's mirror flip); the renderer maps them to the frame. Hands go wherever the
instrument's body plan (playing), the grip points (holding) or the rest pose put them, so the
player's playing motion is exactly the motion at the contact points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipd.synth import canvas as cv
from ipd.synth.textures import CLOTH_PATTERNS, SpriteBuilder, jitter, random_colour

SKIN_TONES = ((241, 194, 160), (224, 172, 130), (198, 134, 96), (141, 85, 54), (96, 62, 42))
HAIR = ((30, 22, 18), (70, 45, 25), (120, 80, 40), (200, 170, 110), (140, 140, 140))


@dataclass(frozen=True)
class Body:
    """Where the body parts are at one instant, in group coordinates (px)."""

    torso: np.ndarray  # torso centre
    head: np.ndarray  # head centre
    feet: np.ndarray  # (2, 2) feet on the floor
    step: float  # leg swing (px) while walking


class Player:
    """One video's musician (appearance sampled once).

    Args:
        rng: the video's generator.
        unit: pixels per design unit (a 180-px-high frame at scale 1 has ``unit == 1``).
        seated: seated players (cello, drums, keyboard) fold their legs.
    """

    def __init__(self, rng: np.random.Generator, unit: float, seated: bool):
        u = self.unit = unit
        self.seated = seated
        self.skin = jitter(rng, SKIN_TONES[rng.integers(len(SKIN_TONES))], 0.01, 0.08, 0.08)
        self.hair = np.asarray(HAIR[rng.integers(len(HAIR))], float)
        self.lips = np.array([150, 40, 50], float)
        self.trousers = random_colour(rng, (0.1, 0.5), (0.15, 0.5))
        shirt_a = random_colour(rng)
        shirt_b = random_colour(rng)
        self.sleeve = shirt_a
        self.head_r = 8.0 * u
        self.hand_r = 3.4 * u
        self.arm_w = 4.5 * u
        self.arm_len = 34.0 * u
        b = SpriteBuilder(rng, (-13 * u, -17 * u, 13 * u, 18 * u))
        tex = b.texture(CLOTH_PATTERNS[rng.integers(len(CLOTH_PATTERNS))], shirt_a, shirt_b,
                        period=rng.uniform(3.0, 6.0) * u)  # fmt: skip
        b.polygon(
            [
                (-11 * u, -16 * u),
                (11 * u, -16 * u),
                (13 * u, -8 * u),
                (9 * u, 17 * u),
                (-9 * u, 17 * u),
                (-13 * u, -8 * u),
            ],  # fmt: skip
            tex,
        )
        self.torso_sprite = b.build()

    # --- geometry (group coordinates) -------------------------------------------------------
    def head_offset(self) -> np.ndarray:
        return np.array([0.0, -31.0 * self.unit])

    def mouth(self, body: Body) -> np.ndarray:
        return body.head + np.array([0.0, 4.5 * self.unit])

    def shoulders(self, body: Body) -> np.ndarray:
        u = self.unit
        return body.torso + np.array([[-10.5 * u, -13.5 * u], [10.5 * u, -13.5 * u]])

    def rest_hands(self, body: Body) -> np.ndarray:
        """Hands hanging by the hips (standing) or lying on the thighs (seated)."""
        u = self.unit
        off = (
            [[-10 * u, 21 * u], [10 * u, 21 * u]]
            if self.seated
            else [[-15 * u, 15 * u], [15 * u, 15 * u]]
        )
        return body.torso + np.array(off)

    def feet_offset(self) -> np.ndarray:
        u = self.unit
        return np.array([[-12 * u, 42 * u], [12 * u, 42 * u]] if self.seated else
                        [[-8 * u, 56 * u], [8 * u, 56 * u]])  # fmt: skip

    # --- drawing (frame coordinates; ``to_frame`` maps group -> frame) ----------------------
    def draw_body(self, img: np.ndarray, body: Body, to_frame: np.ndarray) -> None:
        """Legs, torso and head (drawn before the instrument)."""
        u = self.unit
        hips = body.torso + np.array([[-6 * u, 15 * u], [6 * u, 15 * u]])
        for i, sign in enumerate((-1, 1)):
            foot = body.feet[i] + np.array([sign * body.step, 0.0])
            if self.seated:
                knee = np.array([hips[i][0] + sign * 7 * u, hips[i][1] + 6 * u])
                pts = cv.apply(to_frame, [hips[i], knee, foot])
            else:
                pts = cv.apply(to_frame, [hips[i], foot])
            cv.polyline(img, pts, self.trousers, 6 * u)
        neck = cv.apply(to_frame, [body.torso + [0, -16 * u], body.head + [0, 6 * u]])
        cv.line(img, neck[0], neck[1], self.skin * 0.9, 5 * u)
        cv.paste(img, self.torso_sprite, cv.compose(to_frame, cv.affine(0, *body.torso)))
        head = cv.apply(to_frame, body.head)
        cv.disc(img, head, self.head_r, self.skin)
        hair = cv.apply(to_frame, body.head + [0, -3.5 * u])
        cv.disc(img, hair, self.head_r * 0.8, self.hair)
        eyes = cv.apply(to_frame, body.head + np.array([[-3 * u, 0.5 * u], [3 * u, 0.5 * u]]))
        for e in eyes:
            cv.disc(img, e, 0.9 * u, (20, 20, 20))

    def draw_arms(self, img: np.ndarray, body: Body, hands: np.ndarray, to_frame) -> None:
        """Upper and fore arms from the shoulders to ``hands`` (group coords), elbows bent out."""
        for i, (shoulder, hand) in enumerate(zip(self.shoulders(body), hands, strict=True)):
            d = hand - shoulder
            dist = float(np.hypot(*d)) + 1e-6
            half = self.arm_len / 2
            bend = np.sqrt(max(0.0, half * half - (dist / 2) ** 2))
            normal = np.array([-d[1], d[0]]) / dist
            out = -1.0 if i == 0 else 1.0  # elbows point away from the body
            if normal[0] * out < 0:
                normal = -normal
            elbow = shoulder + d / 2 + normal * bend
            cv.polyline(img, cv.apply(to_frame, [shoulder, elbow, hand]), self.sleeve, self.arm_w)

    def draw_hands(self, img: np.ndarray, hands_frame: np.ndarray) -> None:
        """Skin discs at the hands (frame coordinates) with a knuckle line for texture."""
        for h in hands_frame:
            cv.disc(img, h, self.hand_r, self.skin)
            cv.line(img, h + [-1.6 * self.unit, -1.0 * self.unit],
                    h + [1.6 * self.unit, -1.0 * self.unit], self.skin * 0.8,
                    max(1.0, 0.6 * self.unit))  # fmt: skip

    def draw_lips(self, img: np.ndarray, mouth_frame: np.ndarray) -> None:
        cv.disc(img, mouth_frame, 1.7 * self.unit, self.lips)
