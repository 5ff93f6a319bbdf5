"""Checks of the knobs, so a bad value fails before anything is rendered, in one clear line."""

from __future__ import annotations

from ipd.errors import InputError
from ipd.labels import LabelSpace
from ipd.synth.config import WorldConfig

PROBABILITIES = ("p_handle", "p_walk", "p_adjust", "p_audience", "p_lights", "p_shake",
                 "context_bias", "p_passerby", "p_second_instrument", "p_applause")  # fmt: skip
RANGES = ("scale_range", "phrase_s", "silence_s", "tempo_bpm", "snr_db", "music_dbfs")


def validate_config(config: WorldConfig, labels: LabelSpace) -> None:
    """Raise :class:`InputError` naming the first knob with an impossible value."""
    where = "synth config"
    if config.width % 2 or config.height % 2 or min(config.width, config.height) < 32:
        raise InputError(f"{where}: --size {config.width}x{config.height} must be even and "
                         "at least 32 px on each side (H.264 with yuv420p)")  # fmt: skip
    if not config.fps > 0:
        raise InputError(f"{where}: --fps must be positive (got {config.fps})")
    if not config.duration_s >= 2.0:
        raise InputError(f"{where}: --duration must be at least 2 s (got {config.duration_s})")
    if len(config.videos_per_class) != 3 or min(config.videos_per_class) < 0:
        raise InputError(f"{where}: --videos-per-class needs three counts >= 0 (train val test)")
    for name in PROBABILITIES:
        value = getattr(config, name)
        if not 0.0 <= value <= 1.0:
            raise InputError(f"{where}: --{name.replace('_', '-')} must be in [0, 1] (got {value})")
    if config.p_handle + config.p_walk + config.p_adjust > 1.0:
        raise InputError(f"{where}: --p-handle + --p-walk + --p-adjust must not exceed 1")
    for name in RANGES:
        lo, hi = getattr(config, name)
        if lo > hi:
            raise InputError(f"{where}: --{name.replace('_', '-')} {lo} {hi}: low above high")
    if config.phrase_s[0] < 1.0 or config.silence_s[0] < 1.0:
        raise InputError(f"{where}: phrases and silent stretches must last at least 1 s")
    if config.audio_rate not in (16000, 22050, 32000, 44100, 48000):
        raise InputError(f"{where}: --audio-rate {config.audio_rate} is not an AAC rate")
    if config.box_frames < 0:
        raise InputError(f"{where}: --box-frames must be >= 0")
    known = {n.lower() for n in labels.names}
    unknown = [n for n in config.instruments if n.lower() not in known]
    if unknown:
        raise InputError(f"{labels.source}: unknown instrument(s) {', '.join(unknown)} "
                         f"(choose from {', '.join(labels.names)})")  # fmt: skip
