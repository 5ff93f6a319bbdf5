"""What every instrument drawing provides: its sprite, how it is held, how it is played.

A *body plan* is an instrument family's drawing plus its playing mechanics. Which plan draws a
label is decided from the label space's data (``drum_kit``, ``action_regions``, ``playing_tools``,
``portable``, ``pitch_range``; see :func:`ipd.synth.plans.plan_class`), never from its name, so a
label file with other instruments of these families renders without code changes.

All plan geometry is in *instrument-local* pixels (x along the instrument's main axis); the renderer
maps it to the frame with the instrument's pose. ``pose(t)`` is a pure function of time: the drawn
hands / sticks / bow and the annotated key points come from the same :class:`Pose`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ipd.labels import Instrument
from ipd.synth import canvas as cv
from ipd.synth.timeline import Note, Timeline


@dataclass
class ToolSpec:
    """A stick or bow held by hand ``hand``: a line from the hand to its tip.

    Attributes:
        hand: which hand holds it (0: image-left hand before the mirror flip, 1: right).
        length: px.
        width: px.
        rgb: colour of the shaft.
        tip_rgb: colour of a stick's tip bead (None: no bead).
        hair_rgb: colour of a bow's hair, drawn on top of the shaft (None: not a bow).
        rest_angle: direction (degrees, clockwise from image right) the tool hangs when not played.
    """

    hand: int
    length: float
    width: float
    rgb: np.ndarray
    tip_rgb: np.ndarray | None = None
    hair_rgb: np.ndarray | None = None
    rest_angle: float = 100.0


@dataclass
class Pose:
    """A plan's playing state at one instant, instrument-local px.

    Attributes:
        hands: ``(2, 2)`` hand centres while playing.
        tips: one tip point per tool (the tool runs from its hand through the tip).
        keypoints: the contact points annotated while the instrument sounds.
        fingers: ``(point, radius)`` finger discs drawn over the hands.
    """

    hands: np.ndarray
    tips: list[np.ndarray] = field(default_factory=list)
    keypoints: list[np.ndarray] = field(default_factory=list)
    fingers: list[tuple[np.ndarray, float]] = field(default_factory=list)


class NoteTrack:
    """Fast look-ups into a sorted list of notes."""

    def __init__(self, notes: list[Note] | tuple[Note, ...]):
        notes = sorted(notes, key=lambda n: (n.onset, n.pitch))
        self.notes = notes
        self.onsets = np.array([n.onset for n in notes], dtype=np.float64)
        self.offsets = np.array([n.offset for n in notes], dtype=np.float64)
        self.pitches = np.array([n.pitch for n in notes], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.notes)

    def last(self, t: float) -> int:
        """Index of the last note with onset <= t (-1: none yet)."""
        return int(np.searchsorted(self.onsets, t, side="right")) - 1

    def sounding(self, t: float) -> np.ndarray:
        """Indices of the notes held at ``t``."""
        return np.nonzero((self.onsets <= t) & (t < self.offsets))[0]


def glide(a, b, x: float):
    """Eased interpolation from ``a`` to ``b`` for ``x`` in [0, 1] (clipped)."""
    x = float(np.clip(x, 0.0, 1.0))
    s = x * x * (3 - 2 * x)
    return np.asarray(a, float) * (1 - s) + np.asarray(b, float) * s


class BodyPlan:
    """Base class of the instrument drawings. Subclasses set the attributes in ``__init__``.

    Attributes:
        portable: carried by the player (moves with the torso; can be lifted and carried).
        seated: the player sits.
        inst_offset: portable: instrument origin relative to the torso centre (group px);
            not portable: torso centre relative to the instrument origin.
        play_angle: instrument rotation while played (degrees).
        hold_delta: ``(dx, dy, dangle)`` from the playing to the holding pose (portable only).
        grips: per hand, the local point it holds when not playing (None: rest by the body).
        adjust_point: local point a hand fiddles with during an ADJUST stretch.
        adjust_hand: the hand that does it.
        mouth: local point that sits at the player's lips while played (wind instruments).
        tools: sticks / bow.
        extent: local bounding box ``(x0, y0, x1, y1)`` (layout and overlap tests).
        contact_rgb: colours drawn at the contact points (tests check them at the key points).
    """

    portable = True
    seated = False

    def __init__(self, instrument: Instrument, rng: np.random.Generator, unit: float):
        self.instrument = instrument
        self.unit = unit
        self.inst_offset = np.zeros(2)
        self.play_angle = 0.0
        self.hold_delta = (0.0, 0.0, 0.0)
        self.grips: list[np.ndarray | None] = [None, None]
        self.adjust_point = np.zeros(2)
        self.adjust_hand = 1
        self.mouth: np.ndarray | None = None
        self.tools: list[ToolSpec] = []
        self.extent = (0.0, 0.0, 1.0, 1.0)
        self.contact_rgb: list[np.ndarray] = []
        self.track = NoteTrack([])
        self.timeline: Timeline | None = None

    # --- music ---------------------------------------------------------------------------
    def compose(self, rng: np.random.Generator, start: float, end: float, beat: float,
                velocity: int) -> list[Note]:  # fmt: skip
        """The notes of one phrase in ``[start, end)`` (seconds)."""
        raise NotImplementedError

    def bind(self, timeline: Timeline) -> None:
        """Attach the video's timeline (the plan then answers ``pose(t)``)."""
        self.timeline = timeline
        self.track = NoteTrack(timeline.notes)

    # --- playing -------------------------------------------------------------------------
    def pose(self, t: float) -> Pose:
        """The playing state at ``t`` (local px). Called at every frame, sounding or not."""
        raise NotImplementedError

    def sway(self, t: float) -> tuple[float, float, float]:
        """Extra ``(dx, dy, dangle)`` of the instrument while played (rocking with the beat)."""
        return (0.0, 0.0, 0.0)

    # --- drawing -------------------------------------------------------------------------
    def draw(self, img: np.ndarray, to_frame: np.ndarray, t: float, w: float, wobble: float,
             mask: np.ndarray | None = None) -> None:  # fmt: skip
        """Draw the instrument (and moving parts) with the local -> frame affine ``to_frame``.

        Args:
            w: playing weight (0..1) for parts that move only while played.
            wobble: -1..1 displacement of the adjusted part during an ADJUST stretch.
            mask: when given, instrument pixels are set to 255 (for the VOC boxes).
        """
        raise NotImplementedError

    # --- helpers for subclasses -----------------------------------------------------------
    def place_mouth(self, mouth_group: np.ndarray) -> None:
        """Choose ``inst_offset`` so the local ``mouth`` lands on ``mouth_group`` while played."""
        m = cv.affine(self.play_angle)
        self.inst_offset = np.asarray(mouth_group, float) - cv.apply(m, self.mouth)
