"""The drum kit: bass drum, snare, two toms, floor tom, hi-hat, crash and ride, played with sticks.

Each hit is assigned to a stick; the stick's tip rises between its hits and lands on the struck
head or cymbal exactly at the note onset. Key points (§4.2.3, drums): the stick tips. Kick-drum
notes (pedal, foot hidden behind the drum) move no stick. The General-MIDI percussion map below is
the MIDI standard, not a label: which kit piece a drum note sounds on.
"""

from __future__ import annotations

import numpy as np

from ipd.synth import canvas as cv
from ipd.synth import music
from ipd.synth.plans.base import BodyPlan, Pose, ToolSpec
from ipd.synth.textures import Pattern, SpriteBuilder, jitter

# GM percussion notes (channel 10) -> kit piece
GM_KICK = (35, 36)
GM_SNARE = (38, 40)
GM_HATS = (42, 44, 46)
GM_TOMS = (50, 48, 47, 45, 43, 41)  # high -> low
GM_CRASH = (49, 57)
GM_RIDE = (51, 59)

# kit pieces: (centre x, centre y, half-width, half-height, is_cymbal) in units, bass drum at 0
PIECES = {
    "snare": (-27, -17, 10, 3.5, False),
    "tom_hi": (-9, -30, 7.5, 3.0, False),
    "tom_lo": (9, -30, 8.0, 3.0, False),
    "floor": (29, -14, 11, 4.0, False),
    "hat": (-38, -27, 9, 2.2, True),
    "crash": (-26, -47, 12, 2.8, True),
    "ride": (33, -38, 13, 2.8, True),
}
TIP = np.array([250.0, 250.0, 245.0])


def _piece_for(pitch: int) -> str | None:
    if pitch in GM_SNARE or pitch == 37 or pitch == 39:
        return "snare"
    if pitch in GM_HATS:
        return "hat"
    if pitch in GM_CRASH:
        return "crash"
    if pitch in GM_RIDE:
        return "ride"
    if pitch in GM_TOMS:
        return ("tom_hi", "tom_hi", "tom_lo", "tom_lo", "floor", "floor")[GM_TOMS.index(pitch)]
    return None  # kick and anything else: the foot


class DrumKit(BodyPlan):
    """A seated drummer behind a kit; the kit does not move with the player."""

    portable = False
    seated = True

    def __init__(self, instrument, rng, unit):
        super().__init__(instrument, rng, unit)
        u = unit
        shell = jitter(rng, [(170, 25, 30), (30, 60, 160), (25, 25, 28), (200, 200, 205),
                             (150, 90, 40)][rng.integers(5)], 0.02, 0.2, 0.15)  # fmt: skip
        gold = jitter(rng, (205, 165, 60), 0.01, 0.1, 0.1)
        self.extent = (-50 * u, -54 * u, 50 * u, 24 * u)
        b = SpriteBuilder(rng, self.extent)
        shell_tex = b.texture(Pattern.STRIPES, shell, shell * 0.75, period=3.0 * u)
        head_tex = b.texture(Pattern.PLAIN, (238, 232, 215), (210, 205, 190), period=3 * u)
        metal = (150, 150, 155)
        for x, y, *_ in PIECES.values():  # stands first, then shells, then tops
            b.line((x * u, y * u), (x * u, 22 * u), 0.8 * u, metal)
        b.ellipse((0, 0), (22 * u, 22 * u), shell_tex)  # bass drum, front head with a ring
        b.ellipse((0, 0), (19 * u, 19 * u), head_tex)
        b.ellipse((0, 0), (8 * u, 8 * u), shell * 0.8)
        self.heads = {}
        for name, (x, y, hw, hh, cym) in PIECES.items():
            if cym:
                ctex = b.texture(Pattern.METAL, gold, gold * 0.7, period=2 * u)
                b.ellipse((x * u, y * u), (hw * u, hh * u), ctex)
            else:
                depth = 14 if name == "floor" else 7
                b.polygon([((x - hw) * u, y * u), ((x + hw) * u, y * u),
                           ((x + hw) * u, (y + depth) * u), ((x - hw) * u, (y + depth) * u)],
                          shell_tex)  # fmt: skip
                b.ellipse((x * u, y * u), (hw * u, hh * u), head_tex)
            self.heads[name] = np.array([x * u, (y - 0.5 * hh) * u])
        self.sprite = b.build()
        # the crash cymbal is drawn on its own so an ADJUST stretch can wobble it
        x, y, hw, hh, _ = PIECES["crash"]
        cb = SpriteBuilder(rng, (-hw * u - 1, -hh * u - 1, hw * u + 1, hh * u + 1))
        cb.ellipse((0, 0), (hw * u, hh * u), cb.texture(Pattern.METAL, gold, gold * 0.6, 2 * u))
        self.crash_sprite = cb.build()
        self.crash_at = np.array([x * u, y * u])
        self.inst_offset = np.array([0.0, -46.0]) * u  # torso behind the toms
        stick = np.array([205.0, 170.0, 120.0])
        self.tools = [ToolSpec(h, 22 * u, 1.4 * u, stick, tip_rgb=TIP,
                               rest_angle=60.0 if h == 0 else 120.0) for h in (0, 1)]  # fmt: skip
        self.adjust_point = self.crash_at + np.array([8 * u, 0.0])
        self.adjust_hand = 0
        self.contact_rgb = [TIP]
        self.lift = 11 * u

    def compose(self, rng, start, end, beat, velocity):
        lo, hi = self.instrument.pitch_range

        def pick(options):
            inside = [p for p in options if lo <= p <= hi]
            return inside or list(options)

        return music.groove(rng, start, end, beat, pick(GM_KICK)[0], pick(GM_SNARE)[0],
                            pick(GM_HATS)[:2], pick(GM_TOMS), pick(GM_CRASH)[0])  # fmt: skip

    def bind(self, timeline):
        super().bind(timeline)
        # each stick's hits: (time, target point); stick 0 = image-left side of the kit
        hits: list[list[tuple[float, np.ndarray]]] = [[], []]
        for n in self.track.notes:
            piece = _piece_for(n.pitch)
            if piece is None:
                continue
            side = 0 if self.heads[piece][0] < 0 else 1
            if hits[side] and abs(hits[side][-1][0] - n.onset) < 0.03:
                side = 1 - side  # both hands strike together: the other stick takes it
            hits[side].append((n.onset, self.heads[piece]))
        self.hits = [(np.array([h[0] for h in s]), [h[1] for h in s]) for s in hits]
        self.home = [self.heads["snare"], self.heads["tom_lo"]]

    def _tip(self, stick: int, t: float) -> np.ndarray:
        times, targets = self.hits[stick]
        i = int(np.searchsorted(times, t, side="right")) - 1
        up = np.array([0.0, -self.lift])
        if len(times) == 0:
            return self.home[stick] + up
        if i < 0:
            prev_t, prev_p = times[0] - 1.0, targets[0]
        else:
            prev_t, prev_p = times[i], targets[i]
        if i + 1 < len(times):
            next_t, next_p = times[i + 1], targets[i + 1]
        else:
            next_t, next_p = prev_t + 1.0, prev_p
        gap = max(next_t - prev_t, 1e-3)
        x = float(np.clip((t - prev_t) / gap, 0, 1))
        # the tip rises right after a hit and falls onto the next one; long gaps hover at the top
        rise = min(1.0, gap / 0.5)
        height = rise * np.sin(np.pi * x) ** 0.7
        s = x * x * (3 - 2 * x)
        return prev_p * (1 - s) + next_p * s + up * height

    def pose(self, t):
        tips = [self._tip(0, t), self._tip(1, t)]
        hands = []
        for j, tip in enumerate(tips):
            # the grip sits behind the tip, up towards the drummer's body
            direction = np.array([-0.5 if j == 0 else 0.5, 0.87])
            hands.append(tip - direction * self.tools[j].length)
        return Pose(np.array(hands), tips, [tips[0], tips[1]])

    def draw(self, img, to_frame, t, w, wobble, mask=None):
        cv.paste(img, self.sprite, to_frame, mask)
        pose = cv.compose(to_frame, cv.affine(12.0 * wobble, *self.crash_at))
        cv.paste(img, self.crash_sprite, pose, mask)
