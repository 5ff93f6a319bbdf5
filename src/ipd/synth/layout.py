"""Where things go in the frame: the player's group, the silent second instrument, the regions of
the distractors (kept away from the group), and the class-independent backdrop.

The group's extent is measured by sampling its state over the whole video (walks, lifts and bows
included), so nothing the player does leaves the frame or runs into the audience or the lights.
"""

from __future__ import annotations

import numpy as np

from ipd.labels import LabelSpace
from ipd.synth import canvas as cv
from ipd.synth.confounders import Audience, CameraShake, Lights, Passerby, Region
from ipd.synth.plans import plan_class
from ipd.synth.textures import Pattern, random_colour, texture
from ipd.synth.timeline import Timeline

WALL_PATTERNS = (Pattern.STRIPES, Pattern.CHECKS, Pattern.BRICK, Pattern.CURTAIN, Pattern.BLOBS,
                 Pattern.PLAIN, Pattern.GRAIN)  # fmt: skip
FLOOR_PATTERNS = (Pattern.GRAIN, Pattern.PLAIN, Pattern.CHECKS, Pattern.BLOBS)
MARGIN = 3.0  # px between the group and the frame edge


def group_boxes(scene) -> tuple[np.ndarray, np.ndarray]:
    """Bounding boxes ``(x0, y0, x1, y1)`` of the whole group and of the instrument zone
    (instrument, hands, tools) over the video, relative to the anchor, sampled every 0.1 s."""
    from ipd.synth.motion import frame_state

    x0, y0, x1, y1 = scene.plan.extent
    corners = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]])
    u = scene.unit
    inst_pts, body_pts = [], []
    for t in np.arange(0.0, scene.duration, 0.1):
        s = frame_state(scene, float(t))
        inst_pts += [cv.apply(s.inst, corners), s.hands, *[np.array(tl) for tl in s.tools]]
        torso = cv.apply(s.to_frame, s.body.torso)
        head = cv.apply(s.to_frame, s.body.head)
        body_pts += [torso + [[-14 * u, -18 * u], [14 * u, 18 * u]],
                     head + [[-9 * u, -9 * u], [9 * u, 9 * u]],
                     cv.apply(s.to_frame, s.body.feet)]  # fmt: skip
    inst = np.concatenate(inst_pts)
    every = np.concatenate([inst, *body_pts])
    return _box(every), _box(inst)


def _box(pts: np.ndarray) -> np.ndarray:
    return np.array([*pts.min(axis=0), *pts.max(axis=0)])


def backdrop(rng, width: int, height: int, floor_y: float, unit: float) -> np.ndarray:
    """A class-independent textured wall and floor ``(height, width, 3)`` uint8."""
    wall = texture(
        rng,
        WALL_PATTERNS[rng.integers(len(WALL_PATTERNS))],
        height,
        width,
        random_colour(rng, (0.1, 0.6), (0.25, 0.75)),
        random_colour(rng, (0.1, 0.6), (0.25, 0.75)),
        rng.uniform(5, 14) * unit,
    )
    fy = int(np.clip(floor_y, height * 0.4, height))
    if fy < height:
        wall[fy:] = texture(
            rng,
            FLOOR_PATTERNS[rng.integers(len(FLOOR_PATTERNS))],
            height - fy,
            width,
            random_colour(rng, (0.1, 0.5), (0.2, 0.6)),
            random_colour(rng, (0.1, 0.5), (0.2, 0.6)),
            rng.uniform(4, 10) * unit,
        )
    yy = np.linspace(-1, 1, height)[:, None, None]
    xx = np.linspace(-1, 1, width)[None, :, None]
    light = 1.0 - 0.25 * (xx**2 + yy**2) * rng.uniform(0.5, 1.0)  # a spot-lit stage
    return np.clip(wall * light, 0, 255).astype(np.uint8)


def _uniform(rng, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi)) if hi > lo else (lo + hi) / 2


def arrange(scene, rng: np.random.Generator, labels: LabelSpace, config, has: dict) -> None:
    """Place the group and the context in ``scene`` (in place).

    Args:
        rng: the layout stream of the video.
        has: which contexts the video has (``audience``, ``lights``, ``shake``, ``passerby``,
            ``second``); a context that does not fit is dropped.
    """
    W, H, u = scene.width, scene.height, scene.unit
    group, zone = group_boxes(scene)
    ax = _uniform(rng, MARGIN - group[0], W - MARGIN - group[2])
    crowd_bottom = H - 30 * u  # the instrument zone must end here to leave room for a crowd
    audience = has["audience"] and crowd_bottom - zone[3] >= MARGIN - group[1]
    bottom = crowd_bottom if audience else H - MARGIN
    ay = _uniform(rng, MARGIN - group[1], bottom - zone[3])
    scene.anchor = np.array([ax, ay])
    gx0, gy0, gx1, gy1 = group + [ax, ay, ax, ay]
    floor_y = min(H, gy1 - 2 * u)
    crowd_top = zone[3] + ay + 3 * u
    scene.background = backdrop(rng, W, H, floor_y, u)
    scene.bare_background = scene.background.copy()  # without the second instrument (tests)

    sides = [Region(0, 0, gx0 - 3 * u, H), Region(gx1 + 3 * u, 0, W, H)]
    sides.sort(key=lambda r: r.x1 - r.x0, reverse=True)
    used = set()
    if has["second"]:
        stand = min(floor_y, crowd_top - 2 * u) if audience else floor_y
        used |= _second_instrument(scene, rng, labels, sides, stand)
    free = [r for i, r in enumerate(sides) if i not in used and r.x1 - r.x0 > 30 * u]
    if has["passerby"] and free:
        scene.passerby = Passerby(rng, free[0], floor_y, u, scene.duration)
        free = free[1:]
    top = Region(0, 0, W, gy0 - 3 * u)
    region = top if top.y1 > 16 * u else (free[0] if free else None)
    if has["lights"] and region is not None and region.ok:
        scene.lights = Lights(rng, region, u, scene.timeline.beat_s)
    if audience:
        scene.applause = applause_windows(rng, scene.timeline, config.p_applause)
        scene.audience = Audience(rng, W, H, crowd_top, u, scene.timeline.beat_s, scene.applause)
    if has["shake"]:
        scene.shake = CameraShake(rng, scene.duration, u)


def applause_windows(rng, timeline: Timeline, p: float) -> list[tuple[float, float]]:
    """Stretches right after a phrase in which the audience claps (and is heard)."""
    windows = []
    for s in timeline.silences:
        if s.start > 0 and s.end - s.start > 1.0 and rng.random() < p:
            windows.append((s.start + 0.1, min(s.end - 0.3, s.start + rng.uniform(1.2, 3.0))))
    return windows


def _second_instrument(scene, rng, labels: LabelSpace, sides: list[Region], floor_y) -> set[int]:
    """Stand a silent instrument of another class in the widest side region that fits it.

    It is drawn once into the backdrop (nobody touches it); its mask gives its VOC box.
    """
    others = [i for i in range(len(labels)) if i != scene.spec.class_index]
    if not others:
        return set()
    inst = labels.instruments[int(rng.choice(others))]
    plan = plan_class(inst)(inst, rng, scene.unit * rng.uniform(0.75, 0.95))
    plan.bind(Timeline(scene.duration, 120.0, (), ()))
    x0, y0, x1, y1 = plan.extent
    upright = plan.portable and (x1 - x0) > (y1 - y0)
    angle = (-90.0 + rng.uniform(-12, 12)) if upright else 0.0
    corners = cv.apply(cv.affine(angle), [[x0, y0], [x1, y0], [x0, y1], [x1, y1]])
    bx0, by0 = corners.min(axis=0)
    bx1, by1 = corners.max(axis=0)
    for i, r in enumerate(sides):
        if r.x1 - r.x0 < (bx1 - bx0) + 2 * MARGIN:
            continue
        ox = _uniform(rng, r.x0 + MARGIN - bx0, r.x1 - MARGIN - bx1)
        oy = min(floor_y, scene.height - MARGIN) - by1
        if oy + by0 < MARGIN:
            continue
        mask = np.zeros(scene.background.shape[:2], np.uint8)
        plan.draw(scene.background, cv.affine(angle, ox, oy), 0.0, 0.0, 0.0, mask)
        scene.second = (inst.name, mask)
        return {i}
    return set()
