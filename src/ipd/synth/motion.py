"""The state of one video at continuous time ``t``: where the player, instrument, hands and tools
are. The renderer draws this state and the annotator reads the key points from it, so the
annotation is exactly where the contact is drawn.

Poses blend between *playing* (hands at the plan's contact points) and *not playing* (hands on
grips, at rest, or adjusting) with the timeline's playing weight ``w``, which is exactly 1 on every
sounding instant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipd.synth import canvas as cv
from ipd.synth.plans import Pose
from ipd.synth.player import Body
from ipd.synth.timeline import Activity

LOWER_AFTER_S = 3.0  # pauses shorter than this are waited out with the instrument in position


@dataclass
class FrameState:
    """Everything the renderer needs at one instant (frame px unless noted)."""

    t: float
    w: float  # playing weight 0..1
    sounding: bool
    to_frame: np.ndarray  # (2, 3) group coords -> frame
    body: Body  # group coords
    inst: np.ndarray  # (2, 3) instrument local -> frame
    pose: Pose  # instrument-local playing state
    hands: np.ndarray  # (2, 2)
    tools: list[tuple[np.ndarray, np.ndarray]]  # (grip, tip) per tool
    fingers: list[tuple[np.ndarray, float]]
    mouth: np.ndarray
    wobble: float
    camera: np.ndarray | None  # (2, 3) frame -> shaken frame, None when still


def _activity(scene, t: float) -> tuple[Activity | None, float, float, float]:
    """(activity, envelope 0..1, direction, rate) of the silent stretch at ``t``."""
    s = scene.timeline.silence_at(t)
    if s is None:
        return None, 0.0, 1.0, 0.5
    return s.activity, scene.timeline.activity_envelope(s, t), s.direction, s.rate_hz


def _lowers(scene, t: float) -> float:
    """1 when the player lowers the instrument in the silent stretch at ``t``; pauses shorter than
    ``LOWER_AFTER_S`` are waited out with the instrument in playing position (0)."""
    s = scene.timeline.silence_at(t)
    return 1.0 if s is not None and s.end - s.start >= LOWER_AFTER_S else 0.0


def walk_offset(scene, t: float) -> float:
    """Horizontal walk displacement (group px) at ``t``: out, pause, back."""
    act, env, direction, _ = _activity(scene, t)
    return direction * scene.walk_amp * env if act is Activity.WALK else 0.0


def frame_state(scene, t: float) -> FrameState:
    """The state of ``scene`` (a :class:`ipd.synth.scene.Scene`) at time ``t`` (s)."""
    plan, player, tl, u = scene.plan, scene.player, scene.timeline, scene.unit
    w = tl.playing_weight(t)
    act, env, direction, rate = _activity(scene, t)
    ph = 2 * np.pi * rate * t + scene.phase

    # body: breathing, swaying to the music, walking
    sway = np.array([0.8 * u * np.sin(0.5 * ph), 0.4 * u * np.sin(1.3 * ph)])
    sway += w * 1.0 * u * np.array([np.sin(np.pi * t / tl.beat_s + scene.phase), 0.0])
    nod = np.zeros(2)
    if act is Activity.SWAY:
        sway += env * np.array([3.0 * u * np.sin(ph), 0.8 * u * np.sin(2 * ph)])
        nod = env * np.array([0.0, 2.0 * u * np.sin(2 * ph + 1.0)])
    walk = walk_offset(scene, t)
    speed = abs(walk_offset(scene, t + 0.05) - walk) / 0.05
    step = min(1.0, speed / (10 * u)) * 4.0 * u * np.sin(2 * np.pi * 1.8 * t)

    if plan.portable:
        anchor = scene.anchor + np.array([walk, 0.0])
        torso = sway.copy()
        feet = player.feet_offset()  # the feet stay put while the body sways
    else:
        anchor = scene.anchor.copy()
        torso = plan.inst_offset + sway + np.array([walk, 0.0])
        feet = plan.inst_offset + player.feet_offset() + np.array([walk, 0.0])
    to_frame = cv.affine(0, anchor[0], anchor[1], sx=scene.flip)
    body = Body(torso=torso, head=torso + player.head_offset() + nod, feet=feet, step=step)

    # instrument pose (group coords): playing pose <-> holding pose, plus lifting / fiddling
    wobble = env * np.sin(ph) if act is Activity.ADJUST else 0.0
    if plan.portable:
        rock = np.asarray(plan.sway(t)) * w
        hold = np.asarray(plan.hold_delta) * (1 - w) * _lowers(scene, t)
        dx, dy, da = rock + hold
        if act is Activity.HANDLE:  # lift, tilt, look at it: instrument-shaped motion, no sound
            dy -= env * scene.lift * (0.6 + 0.4 * np.sin(ph))
            da += env * scene.tilt * direction * np.sin(0.7 * ph)
        da += 2.5 * wobble
        origin = torso + plan.inst_offset + np.array([dx, dy])
        angle = plan.play_angle + da
    else:
        origin, angle = np.zeros(2), 0.0
    inst = cv.compose(to_frame, cv.affine(angle, origin[0], origin[1]))

    pose = plan.pose(t)
    play_hands = cv.apply(inst, pose.hands)
    rest = cv.apply(to_frame, player.rest_hands(body))
    other = rest.copy()
    for i in (0, 1):
        grip = plan.grips[i]
        carried = plan.portable or act is not Activity.WALK
        if grip is not None and carried:
            other[i] = cv.apply(inst, grip)
        if act is Activity.ADJUST and i == plan.adjust_hand:
            jiggle = np.array([np.sin(3 * ph), np.cos(2 * ph)]) * 1.5 * u
            target = cv.apply(inst, plan.adjust_point + jiggle)
            other[i] = other[i] * (1 - env) + target * env
    hands = w * play_hands + (1 - w) * other

    tools = []
    for j, spec in enumerate(plan.tools):
        hand = hands[spec.hand]
        a = np.radians(spec.rest_angle if scene.flip > 0 else 180.0 - spec.rest_angle)
        rest_tip = hand + spec.length * np.array([np.cos(a), np.sin(a)])
        tip = w * cv.apply(inst, pose.tips[j]) + (1 - w) * rest_tip
        d = tip - hand
        tools.append((hand, hand + spec.length * d / (np.hypot(*d) + 1e-9)))

    fingers = []
    if w > 0.5:  # fingers sit on the hands; they follow the hand while it moves into place
        for p, r in pose.fingers:
            fp = cv.apply(inst, p)
            n = int(np.argmin(np.hypot(*(play_hands - fp).T)))
            fingers.append((fp + hands[n] - play_hands[n], r))

    return FrameState(
        t=t, w=w, sounding=tl.sounding(t), to_frame=to_frame, body=body, inst=inst, pose=pose,
        hands=hands, tools=tools, fingers=fingers, mouth=cv.apply(to_frame, player.mouth(body)),
        wobble=wobble, camera=scene.shake.matrix(t, scene.width, scene.height)
        if scene.shake is not None else None,
    )  # fmt: skip


def keypoints(scene, t: float) -> np.ndarray:
    """Playing key points at ``t``: ``(n, 2)`` (x, y) px of the rendered frame; ``(0, 2)`` when the
    instrument is silent (the annotation rule of §4.2.3)."""
    state = frame_state(scene, t)
    if not state.sounding:
        return np.zeros((0, 2))
    pts = cv.apply(state.inst, state.pose.keypoints)
    if state.camera is not None:
        pts = cv.apply(state.camera, pts)
    return pts
