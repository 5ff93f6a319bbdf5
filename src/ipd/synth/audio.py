"""The soundtrack: the instrument rendered from a General-MIDI SoundFont with the fluidsynth CLI,
heard only while it is played, over background noise (pink noise, and crowd applause when the
audience claps).

The rendered music is multiplied by the sound-activity mask (1 inside the annotated intervals, a
40-ms fade after them), so the ``sound_activity.csv`` intervals are exactly where the instrument is
audible: release tails and reverb never leak into the silent stretches.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

from ipd.errors import InputError
from ipd.synth.timeline import Note

FADE_S = 0.04  # fade-out after an interval (s); 0 dB inside, silent 40 ms after the end
FLUIDSYNTH_GAIN = "0.4"  # keeps loud drum hits below int16 clipping in fluidsynth's wav


def check_soundfont(path: str | Path) -> Path:
    """The SoundFont and the fluidsynth CLI are usable, or a one-line :class:`InputError`."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: soundfont not found (install fluid-soundfont-gm or pass "
                         "--soundfont PATH)")  # fmt: skip
    if not path.is_file():
        raise InputError(f"{path}: soundfont is not a file")
    try:
        with path.open("rb") as handle:
            head = handle.read(12)
    except OSError as err:
        raise InputError(f"{path}: soundfont is not readable ({err.strerror})") from err
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise InputError(f"{path}: not a SoundFont 2 (.sf2) file")
    if shutil.which("fluidsynth") is None:
        raise InputError("fluidsynth: program not found on PATH (install the Debian package "
                         "fluidsynth)")  # fmt: skip
    _pretty_midi()
    return path


def _pretty_midi():
    """The MIDI writer of the ``synth`` extra, or a one-line :class:`InputError` saying how to
    install it."""
    try:
        import pretty_midi
    except ModuleNotFoundError:
        raise InputError(
            "pretty_midi: not installed; synthesis needs the synth extra: pip install 'ipd[synth]'"
        ) from None
    return pretty_midi


def write_midi(notes: list[Note], program: int, is_drum: bool, path: Path) -> None:
    """A one-track MIDI file of ``notes`` (GM ``program``, or the channel-10 drum kit)."""
    pretty_midi = _pretty_midi()
    pm = pretty_midi.PrettyMIDI(resolution=960)
    track = pretty_midi.Instrument(program=program, is_drum=is_drum)
    track.notes = [pretty_midi.Note(n.velocity, n.pitch, n.onset, n.offset) for n in notes]
    pm.instruments.append(track)
    pm.write(str(path))


def render_notes(notes: list[Note], program: int, is_drum: bool, soundfont: Path,
                 duration: float, sr: int) -> np.ndarray:  # fmt: skip
    """Mono float32 ``(round(duration * sr),)`` audio of ``notes`` rendered by fluidsynth."""
    n = int(round(duration * sr))
    if not notes:
        return np.zeros(n, np.float32)
    with tempfile.TemporaryDirectory(prefix="ipd-synth-") as tmp:
        mid, wav = Path(tmp) / "notes.mid", Path(tmp) / "notes.wav"
        write_midi(notes, program, is_drum, mid)
        cmd = ["fluidsynth", "-ni", "-R", "0", "-C", "0", "-g", FLUIDSYNTH_GAIN, "-F", str(wav),
               "-r", str(sr), str(soundfont), str(mid)]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not wav.is_file():
            msg = (proc.stderr or proc.stdout).strip().splitlines()
            raise InputError(f"{soundfont}: fluidsynth failed ({msg[-1] if msg else 'no output'})")
        y, rate = sf.read(str(wav), dtype="float32", always_2d=True)
    if rate != sr:
        raise InputError(f"{soundfont}: fluidsynth wrote {rate} Hz instead of {sr} Hz")
    y = y.mean(axis=1)
    out = np.zeros(n, np.float32)
    out[: min(n, len(y))] = y[:n]
    return out


def activity_mask(intervals: list[tuple[float, float]], n: int, sr: int) -> np.ndarray:
    """``(n,)`` gain: 1 inside each ``[start, end)``, a linear fade over ``FADE_S`` after it."""
    t = np.arange(n) / sr
    mask = np.zeros(n, np.float32)
    for start, end in intervals:
        inside = (t >= start) & (t < end)
        tail = (t >= end) & (t < end + FADE_S)
        mask[inside] = 1.0
        mask[tail] = np.maximum(mask[tail], 1.0 - (t[tail] - end) / FADE_S)
    return mask


def pink_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit-RMS pink (1/f power) noise ``(n,)``."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = 1.0
    y = np.fft.irfft(spec / np.sqrt(f), n)
    return (y / (np.sqrt(np.mean(y**2)) + 1e-12)).astype(np.float32)


def applause(rng: np.random.Generator, windows, n: int, sr: int) -> np.ndarray:
    """Crowd clapping in ``windows`` ``[(start, end)]``: dense band-passed clap bursts, ~unit RMS
    while it lasts."""
    out = np.zeros(n, np.float32)
    if not windows:
        return out
    sos = signal.butter(2, [800, min(5000, sr / 2 - 100)], "bandpass", fs=sr, output="sos")
    clap_len = int(0.03 * sr)
    decay = np.exp(-np.arange(clap_len) / (0.006 * sr)).astype(np.float32)
    for start, end in windows:
        a, b = int(start * sr), min(n, int(end * sr))
        if b - a < clap_len:
            continue
        burst = np.zeros(b - a, np.float32)
        for onset in rng.integers(0, b - a - clap_len, int((end - start) * 60)):  # ~60 claps/s
            burst[onset : onset + clap_len] += (
                decay * rng.standard_normal(clap_len) * rng.uniform(0.3, 1.0)
            )
        fade = np.minimum(1.0, np.minimum(np.arange(b - a), np.arange(b - a)[::-1]) / (0.2 * sr))
        out[a:b] += (signal.sosfilt(sos, burst) * fade).astype(np.float32)
    active = np.abs(out) > 0
    rms = np.sqrt(np.mean(out[active] ** 2)) if active.any() else 1.0
    return out / (rms + 1e-12)


def soundtrack(scene, soundfont: Path, sr: int) -> np.ndarray:
    """The video's mono float32 audio ``(round(duration * sr),)`` in [-1, 1]."""
    p = scene.audio
    tl = scene.timeline
    music = render_notes(list(tl.notes), p.program, p.is_drum, soundfont, scene.duration, sr)
    mask = activity_mask(tl.intervals(), len(music), sr)
    music *= mask
    active = mask > 0.5
    rms = float(np.sqrt(np.mean(music[active] ** 2))) if active.any() else 0.0
    level = 10 ** (p.music_dbfs / 20)
    music *= level / (rms + 1e-9) if rms > 0 else 0.0
    rng = np.random.default_rng(p.noise_seed)
    noise = pink_noise(rng, len(music)) * level / 10 ** (p.snr_db / 20)
    crowd = applause(rng, scene.applause, len(music), sr) * level * rng.uniform(0.3, 0.8)
    return np.clip(music + noise + crowd, -1.0, 1.0).astype(np.float32)
