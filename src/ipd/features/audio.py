"""Audio decoding and multi-scale log-mel features (SPEC section 3).

The features are the authors' ``logmelspec10000.16000_{WIN}_512_128.0``: ``log(1 + 10000 * M)``
where ``M = librosa.feature.melspectrogram(y, sr=16000, n_fft=WIN, hop_length=512, n_mels=128)``
with librosa's defaults (power 2, Slaney mel filters, centred frames) on mono 16-kHz audio, stored
as ``(frames, 128)``. One map per STFT window; a 10-s clip has 313 frames at every window.
"""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np

from ipd.errors import InputError
from ipd.timebase import HOP, SAMPLE_RATE

DEFAULT_WINDOWS = (512, 2048, 8192)  # chapter 4; chapter 3 uses 512 ... 16384
N_MELS = 128
LOG_SCALE = 10_000.0
AUDIO_ONLY_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".aiff", ".aif", ".au"}


class AudioError(InputError):
    """An input whose audio cannot be used; the message names the file and the problem."""


class NoAudioTrack(AudioError):
    """A video without an audio stream."""


def load_audio(path: str | Path, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Decode ``path`` to mono float32 at ``sr`` Hz. Shape ``(samples,)``.

    Audio files go through ``librosa.load`` (the authors' loader). Video containers are decoded with
    PyAV, then mixed down and resampled exactly as ``librosa.load`` does (channel mean, soxr_hq).

    Raises:
        AudioError: missing or undecodable file; NoAudioTrack: a video without audio.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: file not found")
    if path.suffix.lower() in AUDIO_ONLY_SUFFIXES:
        try:
            y, _ = librosa.load(path, sr=sr, mono=True)
        except Exception as err:  # librosa raises several unrelated types for bad files
            raise AudioError(f"{path}: cannot decode audio ({err})") from err
    else:
        y, native_sr = _decode_container_audio(path)
        if y.ndim == 2:
            y = librosa.to_mono(y)
        if native_sr != sr:
            y = librosa.resample(y, orig_sr=native_sr, target_sr=sr, res_type="soxr_hq")
    if y.size == 0:
        raise AudioError(f"{path}: audio track is empty")
    return np.ascontiguousarray(y, dtype=np.float32)


def _decode_container_audio(path: Path) -> tuple[np.ndarray, int]:
    """All samples of the first audio stream as float32 ``(channels, samples)`` and its rate."""
    import av

    try:
        container = av.open(str(path))
    except Exception as err:
        raise AudioError(f"{path}: not a readable media file ({err})") from err
    with container:
        if not container.streams.audio:
            raise NoAudioTrack(f"{path}: no audio track")
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        channels = stream.codec_context.channels
        resampler = av.AudioResampler(format="fltp", layout=stream.codec_context.layout, rate=rate)
        chunks = []
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
        except av.error.FFmpegError as err:
            raise AudioError(f"{path}: audio decoding failed ({err})") from err
    if not chunks:
        raise AudioError(f"{path}: audio track has no samples")
    y = np.concatenate(chunks, axis=1).astype(np.float32)
    return (y[0] if channels == 1 else y), rate


def logmel(y: np.ndarray, win: int, sr: int = SAMPLE_RATE, hop: int = HOP) -> np.ndarray:
    """``log(1 + 10000 * mel power)`` of mono ``y``. Shape ``(1 + len(y) // hop, 128)``, float32."""
    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=win, hop_length=hop, n_mels=N_MELS)
    return np.log1p(LOG_SCALE * mel).T.astype(np.float32)


def multiscale_logmel(
    y: np.ndarray, windows: tuple[int, ...] = DEFAULT_WINDOWS, sr: int = SAMPLE_RATE
) -> dict[int, np.ndarray]:
    """One :func:`logmel` map per STFT window, all with the same number of frames."""
    return {win: logmel(y, win, sr=sr) for win in windows}


def standardize(feat: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Per-mel-band standardization ``(feat - mean) / std``; ``feat`` is ``(frames, 128)``."""
    return ((feat - mean.reshape(1, -1)) / std.reshape(1, -1)).astype(np.float32)
