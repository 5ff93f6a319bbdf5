"""The knobs of the SynthIPA world in one dataclass; a preset is an instance of it.

Every field carries its own help text (``metadata["help"]``): the CLI builds its options from the
fields and ``docs/synthipa.md`` documents each one, so a knob is added in exactly one place.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

DEFAULT_SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
SPLITS = ("train", "val", "test")


def _knob(default, help: str, flag: str | None = ""):  # noqa: A002 - reads like the CLI
    """A knob with its help text; ``flag`` overrides the CLI option name (None: no own option)."""
    return field(default=default, metadata={"help": help, "flag": flag})


@dataclass(frozen=True)
class WorldConfig:
    """Everything that decides what ``ipd synth`` renders (same config + seed -> same bytes).

    Durations are seconds, sizes pixels of the rendered video, probabilities in [0, 1].
    """

    seed: int = _knob(0, "world seed; each video's RNG is derived from (seed, split, class, index)")
    videos_per_class: tuple[int, int, int] = _knob(
        (8, 2, 3), "videos per instrument in the train, val and test splits"
    )
    instruments: tuple[str, ...] = _knob(
        (), "render only these label names (empty: the whole label space)"
    )
    labels: str = _knob("", "label-space YAML (empty: annotations/instruments.yaml)")
    soundfont: str = _knob(
        DEFAULT_SOUNDFONT, "General-MIDI SoundFont (.sf2) rendered by fluidsynth"
    )
    duration_s: float = _knob(20.0, "length of every video (s)", flag="--duration")
    width: int = _knob(320, "video width (px, even; CLI: --size WxH)", flag=None)
    height: int = _knob(180, "video height (px, even; CLI: --size WxH)", flag=None)
    fps: float = _knob(15.0, "video frame rate (deliberately not a multiple of 7.8125)")
    crf: int = _knob(23, "x264 constant rate factor (lower: larger files, fewer artefacts)")
    scale_range: tuple[float, float] = _knob(
        (0.85, 1.2), "player + instrument size relative to a 180-px-high frame"
    )
    phrase_s: tuple[float, float] = _knob(
        (2.0, 7.0), "length range of a played phrase (the instrument sounds throughout)"
    )
    silence_s: tuple[float, float] = _knob(
        (1.5, 5.0), "length range of a silent stretch (instrument visible, not played)"
    )
    tempo_bpm: tuple[float, float] = _knob((72.0, 140.0), "tempo range of a video's music")
    p_handle: float = _knob(
        0.2, "silent stretch: the player lifts / tilts / inspects the instrument (no sound)"
    )
    p_walk: float = _knob(0.1, "silent stretch: the player walks (carrying a portable instrument)")
    p_adjust: float = _knob(
        0.15, "silent stretch: a hand adjusts the instrument away from its contact points"
    )
    p_audience: float = _knob(0.4, "base rate of an audience in the foreground (bobs, claps)")
    p_lights: float = _knob(0.4, "base rate of moving stage lights on the backdrop")
    p_shake: float = _knob(0.3, "base rate of hand-held camera shake in stretches of the video")
    context_bias: float = _knob(
        0.6,
        "how strongly audience / lights / shake follow the video's class "
        "(0: class-independent, 1: each class either always or never has each)",
    )
    p_passerby: float = _knob(0.3, "a person walking in the background, away from the instrument")
    p_second_instrument: float = _knob(
        0.3, "a second, silent instrument of another class stands in view"
    )
    p_applause: float = _knob(
        0.3, "with an audience: chance that it claps (and is heard) after a phrase"
    )
    snr_db: tuple[float, float] = _knob(
        (10.0, 30.0), "music-to-background-noise ratio (dB, pink noise) range"
    )
    music_dbfs: tuple[float, float] = _knob((-24.0, -14.0), "RMS level of the music (dBFS) range")
    audio_rate: int = _knob(16000, "audio sample rate (Hz) of the rendered and encoded audio")
    box_frames: int = _knob(3, "analysis frames per test video saved with VOC instrument boxes")

    def fingerprint(self) -> str:
        """Short hash of the knobs that shape a single video (not which videos exist): a finished
        video is reused by a rerun only if it was made with the same fingerprint."""
        knobs = dataclasses.asdict(self)
        for key in ("videos_per_class", "instruments"):
            knobs.pop(key)
        text = json.dumps(knobs, sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    def to_dict(self) -> dict:
        """Plain JSON-able dict of the knobs (tuples become lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def replace(self, **changes) -> WorldConfig:
        """A copy with ``changes`` applied (``None`` values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


# ``tiny`` keeps every unit test fast (27 videos of 6 s in a few seconds); ``demo`` is the data of
# the main job: 9 x (8 + 2 + 3) videos of 20 s, about 2 minutes with two workers on two cores.
PRESETS: dict[str, WorldConfig] = {
    "tiny": WorldConfig(
        videos_per_class=(1, 1, 1),
        duration_s=6.0,
        width=160,
        height=90,
        fps=10.0,
        phrase_s=(1.8, 3.0),
        silence_s=(1.5, 2.5),
        box_frames=2,
    ),
    # Players fill more of the frame than in the defaults (a medium shot, like most performance
    # videos the paper used, rather than a full-body long shot): at the default 0.85-1.2 a violin
    # or trumpet is about 12 x 14 px of a 128-px frame and 25 x 30 px of the 256-px evaluation
    # image, smaller than the object model's 32-px output stride, so even a perfect class map
    # hits its VOC box in only 78 % of the test images (measured in /tmp/tune); at 1.4-1.9: 92 %.
    "demo": WorldConfig(scale_range=(1.4, 1.9)),
}
