"""Drawing a frame of a scene, and the ground truth read from the same state.

Layers, back to front: backdrop (with the silent second instrument), lights, passer-by, player's
body, instrument, arms, sticks / bow, hands, fingers, lips, audience; then the camera shake warps
the whole frame (and the key points and boxes with it).
"""

from __future__ import annotations

import cv2
import numpy as np

from ipd.synth import canvas as cv
from ipd.synth.motion import FrameState, frame_state
from ipd.synth.scene import Scene


def render_frame(scene: Scene, t: float, instruments: bool = True) -> np.ndarray:
    """The RGB frame ``(height, width, 3)`` uint8 at time ``t`` (s).

    Args:
        instruments: False leaves out both instruments (tests compare the two renders to find the
            instrument's pixels).
    """
    state = frame_state(scene, t)
    img = (scene.background if instruments else scene.bare_background).copy()
    groove = state.w
    if scene.lights is not None:
        scene.lights.draw(img, t, groove)
    if scene.passerby is not None:
        scene.passerby.draw(img, t)
    player = scene.player
    player.draw_body(img, state.body, state.to_frame)
    if instruments:
        scene.plan.draw(img, state.inst, t, state.w, state.wobble)
    arms = cv.apply(np.linalg.inv(np.vstack([state.to_frame, [0, 0, 1]]))[:2], state.hands)
    player.draw_arms(img, state.body, arms, state.to_frame)
    _draw_tools(img, scene, state)
    player.draw_hands(img, state.hands)
    skin = player.skin * 0.85
    for p, r in state.fingers:
        cv.disc(img, p, r, skin)
    player.draw_lips(img, state.mouth)
    if scene.audience is not None:
        scene.audience.draw(img, t, groove)
    if state.camera is not None:
        img = cv2.warpAffine(img, state.camera, (scene.width, scene.height),
                             flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)  # fmt: skip
    return img


def _draw_tools(img: np.ndarray, scene: Scene, state: FrameState) -> None:
    for spec, (grip, tip) in zip(scene.plan.tools, state.tools, strict=True):
        if spec.hair_rgb is not None:  # a bow: dark stick with the hair on top of it
            cv.line(img, grip, tip, spec.rgb, spec.width + scene.unit)
            cv.line(img, grip, tip, spec.hair_rgb, spec.width * 0.8)
        else:
            cv.line(img, grip, tip, spec.rgb, spec.width)
        if spec.tip_rgb is not None:
            cv.disc(img, tip, 1.5 * scene.unit, spec.tip_rgb)


def instrument_boxes(scene: Scene, t: float) -> list[tuple[str, np.ndarray]]:
    """Boxes of the instruments in view at ``t``: ``(label, [x0, y0, x1, y1])`` px of the frame,
    pixel indices inclusive. The played instrument comes first, the silent one (if any) second."""
    state = frame_state(scene, t)
    mask = np.zeros((scene.height, scene.width), np.uint8)
    scratch = np.zeros((scene.height, scene.width, 3), np.uint8)
    scene.plan.draw(scratch, state.inst, t, state.w, state.wobble, mask)
    masks = [(scene.instrument.name, mask)]
    if scene.second is not None:
        masks.append((scene.second[0], scene.second[1]))
    boxes = []
    for name, m in masks:
        if state.camera is not None:
            m = cv2.warpAffine(m, state.camera, (scene.width, scene.height),
                               flags=cv2.INTER_NEAREST)  # fmt: skip
        ys, xs = np.nonzero(m)
        if len(xs):
            boxes.append((name, np.array([xs.min(), ys.min(), xs.max(), ys.max()])))
    return boxes
