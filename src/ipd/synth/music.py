"""Random note sequences for a phrase: melodies, strummed chords, two-handed keyboard parts and
drum grooves. Times are seconds; pitches MIDI numbers inside the instrument's ``pitch_range``."""

from __future__ import annotations

import numpy as np

from ipd.synth.timeline import Note


def _vel(rng: np.random.Generator, base: int) -> int:
    return int(np.clip(base + rng.integers(-10, 11), 30, 127))


def _walk(rng: np.random.Generator, pitch: int, lo: int, hi: int, step: int = 4) -> int:
    p = pitch + int(rng.integers(-step, step + 1))
    return int(np.clip(p if lo <= p <= hi else pitch - (p - pitch), lo, hi))


def melody(rng, start, end, beat, pitch_range, velocity, legato=0.92) -> list[Note]:
    """A single line: notes of 1/2 .. 2 beats from ``start`` until ``end``, a pitch random walk."""
    lo, hi = pitch_range
    pitch = int(rng.integers(lo + (hi - lo) // 4, hi - (hi - lo) // 4 + 1))
    notes, t = [], start
    while t < end - 0.15:
        dur = beat * float(rng.choice([0.5, 0.5, 1.0, 1.0, 1.5, 2.0]))
        stop = min(t + dur, end)
        notes.append(Note(t, t + (stop - t) * legato, pitch, _vel(rng, velocity)))
        pitch = _walk(rng, pitch, lo, hi)
        t = stop
    return notes


def strums(rng, start, end, beat, pitch_range, velocity) -> list[Note]:
    """Strummed chords: a chord every 1/2 or 1 beat, its strings 12 ms apart (the strum itself)."""
    lo, hi = pitch_range
    root = int(rng.integers(lo, max(lo + 1, hi - 12)))
    step = beat * float(rng.choice([0.5, 1.0]))
    notes, t, i = [], start, 0
    while t < end - 0.1:
        if i % 4 == 0:
            root = _walk(rng, root, lo, max(lo, hi - 12), step=5)
        stop = min(t + step, end)
        down = i % 2 == 0  # down strokes play low -> high strings, up strokes the reverse
        chord = [root, root + 4 + int(rng.integers(-1, 1)), root + 7, root + 12]
        chord = [p for p in chord if p <= hi] or [root]
        order = chord if down else chord[::-1]
        for j, p in enumerate(order):
            on = t + 0.012 * j
            notes.append(Note(on, max(on + 0.05, stop - 0.02), p, _vel(rng, velocity)))
        t, i = stop, i + 1
    return notes


def two_hands(rng, start, end, beat, pitch_range, velocity) -> list[Note]:
    """A right-hand melody in the upper half of the range, left-hand bass notes every 2 beats."""
    lo, hi = pitch_range
    mid = (lo + hi) // 2
    notes = melody(rng, start, end, beat, (mid, hi), velocity, legato=0.85)
    t = start
    bass = int(rng.integers(lo, mid - 4))
    while t < end - 0.2:
        stop = min(t + 2 * beat, end)
        notes.append(Note(t, t + (stop - t) * 0.9, bass, _vel(rng, velocity - 10)))
        bass = _walk(rng, bass, lo, mid - 1, step=5)
        t = stop
    return sorted(notes, key=lambda n: (n.onset, n.pitch))


def groove(rng, start, end, beat, kick, snare, hats, toms, crash) -> list[Note]:
    """A rock groove: hi-hat eighths, kick on 1 and 3, snare on 2 and 4, a tom fill before the last
    bar ends, a crash on the first beat. Arguments after ``beat`` are GM drum-note numbers."""
    notes = []
    vel = int(rng.integers(80, 115))
    t, eighth, k = start, beat / 2, 0
    hat = int(rng.choice(hats))
    fill_from = end - 2 * beat
    while t < end - 0.12:
        pos = k % 8
        hits = []
        if t >= fill_from and toms:
            hits.append(int(toms[(k // 1) % len(toms)]))
        else:
            hits.append(hat if not (k == 0 and crash is not None) else int(crash))
            if pos in (0, 4) or (pos == 5 and rng.random() < 0.3):
                hits.append(int(kick))
            if pos in (2, 6):
                hits.append(int(snare))
        for p in hits:
            notes.append(Note(t, min(t + 0.2, end), p, _vel(rng, vel)))
        t, k = t + eighth, k + 1
    return notes
