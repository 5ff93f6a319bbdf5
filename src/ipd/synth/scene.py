"""Sampling one video of the world: who plays what, when, where, and what else is in view.

Everything random about a video is drawn here from its own generator, seeded by
``(seed, split, class, index)``: a video does not depend on any other, so videos render in any
order or in parallel and a rerun gives the same bytes. Independent aspects (look, music, layout,
context, audio) use separate child streams, so changing one knob does not reshuffle the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ipd.labels import Instrument, LabelSpace
from ipd.synth.config import SPLITS, WorldConfig
from ipd.synth.confounders import Audience, CameraShake, Lights, Passerby, context_rates
from ipd.synth.plans import BodyPlan, plan_class
from ipd.synth.player import Player
from ipd.synth.timeline import (
    Activity,
    Phrase,
    Silence,
    Timeline,
    sample_activity,
    sample_segments,
)


@dataclass(frozen=True)
class VideoSpec:
    """Which video: its id, split, class (label-space index) and index within (split, class)."""

    video_id: str
    split: str
    class_index: int
    index: int


def video_specs(config: WorldConfig, labels: LabelSpace) -> list[VideoSpec]:
    """All videos of the world in index order (split, then class, then index)."""
    wanted = {n.lower() for n in config.instruments}
    specs = []
    for split, count in zip(SPLITS, config.videos_per_class, strict=True):
        for g, inst in enumerate(labels.instruments):
            if wanted and inst.name.lower() not in wanted:
                continue
            for i in range(count):
                specs.append(VideoSpec(f"{inst.name.lower()}_{split}_{i:03d}", split, g, i))
    return specs


@dataclass
class AudioParams:
    """How the video's soundtrack is rendered (see :mod:`ipd.synth.audio`)."""

    program: int
    is_drum: bool
    music_dbfs: float
    snr_db: float
    noise_seed: int


@dataclass
class Scene:
    """One sampled video (sizes in px of the rendered video, times in s)."""

    spec: VideoSpec
    instrument: Instrument
    width: int
    height: int
    duration: float
    unit: float
    plan: BodyPlan
    player: Player
    timeline: Timeline
    flip: float
    phase: float
    walk_amp: float
    lift: float
    tilt: float
    audio: AudioParams
    anchor: np.ndarray = field(default_factory=lambda: np.zeros(2))
    background: np.ndarray | None = None
    bare_background: np.ndarray | None = None
    second: tuple[str, np.ndarray] | None = None  # (label, frame mask) of the silent instrument
    audience: Audience | None = None
    lights: Lights | None = None
    passerby: Passerby | None = None
    shake: CameraShake | None = None
    applause: list[tuple[float, float]] = field(default_factory=list)

    @property
    def contact_rgb(self) -> list[np.ndarray]:
        """Colours drawn at key points: skin (hands), lips (mouth) and the plan's tools."""
        return [self.player.skin, self.player.lips, *self.plan.contact_rgb]


def _timeline(rng, config: WorldConfig, plan: BodyPlan) -> Timeline:
    tempo = rng.uniform(*config.tempo_bpm)
    beat = 60.0 / tempo
    velocity = int(rng.integers(65, 110))
    phrases = []
    for start, end, playing in sample_segments(rng, config.duration_s, config.phrase_s,
                                               config.silence_s):  # fmt: skip
        if playing:
            notes = tuple(plan.compose(rng, start, end, beat, velocity))
            if notes:
                phrases.append(Phrase(notes[0].onset, max(n.offset for n in notes), notes))
    silences, t = [], 0.0
    for p in [*phrases, Phrase(config.duration_s, config.duration_s, ())]:
        if p.start - t > 0.05:
            act = sample_activity(rng, p.start - t, config.p_handle, config.p_walk,
                                  config.p_adjust)  # fmt: skip
            if act is Activity.HANDLE and not plan.portable:
                act = Activity.ADJUST  # a drum kit or piano is not lifted; it is fiddled with
            silences.append(Silence(t, p.start, act, float(rng.choice([-1.0, 1.0])),
                                    float(rng.uniform(0.2, 0.5))))  # fmt: skip
        t = p.end
    return Timeline(config.duration_s, tempo, tuple(phrases), tuple(silences))


def sample_scene(config: WorldConfig, labels: LabelSpace, spec: VideoSpec) -> Scene:
    """Draw everything about video ``spec`` from its own seeded generator."""
    from ipd.synth.layout import arrange

    seq = np.random.SeedSequence([config.seed, SPLITS.index(spec.split), spec.class_index,
                                  spec.index])  # fmt: skip
    look, music_rng, layout_rng, context_rng, audio_rng = (
        np.random.default_rng(s) for s in seq.spawn(5)
    )
    inst = labels.instruments[spec.class_index]
    unit = config.height / 180.0 * look.uniform(*config.scale_range)
    plan = plan_class(inst)(inst, look, unit)
    player = Player(look, unit, plan.seated)
    flip = 1.0 if look.random() < 0.5 else -1.0
    timeline = _timeline(music_rng, config, plan)
    plan.bind(timeline)

    rates = context_rates(config, spec.class_index)
    has = {kind: bool(context_rng.random() < rates[kind]) for kind in sorted(rates)}
    has["passerby"] = bool(context_rng.random() < config.p_passerby)
    has["second"] = bool(context_rng.random() < config.p_second_instrument)

    scene = Scene(
        spec=spec, instrument=inst, width=config.width, height=config.height,
        duration=config.duration_s, unit=unit, plan=plan, player=player, timeline=timeline,
        flip=flip, phase=float(look.uniform(0, 2 * np.pi)),
        walk_amp=float(look.uniform(14, 28) * unit), lift=float(look.uniform(5, 12) * unit),
        tilt=float(look.uniform(6, 15)),
        audio=AudioParams(
            program=int(audio_rng.choice(inst.gm_programs)), is_drum=inst.drum_kit,
            music_dbfs=float(audio_rng.uniform(*config.music_dbfs)),
            snr_db=float(audio_rng.uniform(*config.snr_db)),
            noise_seed=int(audio_rng.integers(2**32)),
        ),
    )  # fmt: skip
    arrange(scene, layout_rng, labels, config, has)
    return scene
