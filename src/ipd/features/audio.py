"""Audio decoding and multi-scale log-mel features (SPEC section 3).

The features are the authors' ``logmelspec10000.16000_{WIN}_512_128.0``: ``log(1 + 10000 * M)``
where ``M = librosa.feature.melspectrogram(y, sr=16000, n_fft=WIN, hop_length=512, n_mels=128)``
with librosa's defaults (power 2, Slaney mel filters, centred frames) on mono 16-kHz audio, stored
as ``(frames, 128)``. One map per STFT window; a 10-s clip has 313 frames at every window.

For long videos, :func:`iter_audio` and :class:`LogmelStream` compute the same features with memory
bounded by a few seconds of audio: the decoded track is resampled with soxr's streaming resampler
(bit-identical to ``librosa.resample(..., res_type="soxr_hq")``) and the centred STFT is evaluated
block by block on zero-padded segments (equal to the one-shot result to float rounding).

The mel projection is a matrix product, and BLAS splits it differently over 1 and 2 threads,
which changes the last bits: it runs on one BLAS thread (:func:`_mel_power`), so stored features
are the same bytes whatever the process's thread settings (a Ray worker runs with
``OMP_NUM_THREADS=1``, a local process with every core).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import librosa
import numpy as np
from threadpoolctl import threadpool_limits

from ipd.errors import InputError
from ipd.files import check_input_file
from ipd.timebase import HOP, SAMPLE_RATE, SOUND_STRIDE

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
    path = check_input_file(path, "media file", AudioError)
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
    except Exception as err:  # PyAV's FFmpegError subclasses, OSError
        reason = (getattr(err, "strerror", None) or type(err).__name__).lower()
        raise AudioError(f"{path}: not a readable media file ({reason})") from err
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
    mel = _mel_power(y, sr, win, hop, center=True)
    return np.log1p(LOG_SCALE * mel).T.astype(np.float32)


def _mel_power(y: np.ndarray, sr: int, win: int, hop: int, center: bool) -> np.ndarray:
    """librosa's mel power spectrogram ``(128, frames)`` on one BLAS thread (module docstring)."""
    with threadpool_limits(limits=1, user_api="blas"):
        return librosa.feature.melspectrogram(
            y=y, sr=sr, n_fft=win, hop_length=hop, n_mels=N_MELS, center=center
        )


def multiscale_logmel(
    y: np.ndarray, windows: tuple[int, ...] = DEFAULT_WINDOWS, sr: int = SAMPLE_RATE
) -> dict[int, np.ndarray]:
    """One :func:`logmel` map per STFT window, all with the same number of frames."""
    return {win: logmel(y, win, sr=sr) for win in windows}


def standardize(feat: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Per-mel-band standardization ``(feat - mean) / std``; ``feat`` is ``(frames, 128)``."""
    return ((feat - mean.reshape(1, -1)) / std.reshape(1, -1)).astype(np.float32)


def iter_audio(path: str | Path, sr: int = SAMPLE_RATE) -> Iterator[np.ndarray]:
    """Decode the first audio track of ``path`` to mono float32 at ``sr`` Hz, chunk by chunk.

    Same samples as :func:`load_audio` on a video container (channel mean, soxr HQ resampling),
    without holding the whole track in memory.

    Yields:
        ``(n,)`` float32 chunks (a few thousand samples each).

    Raises:
        AudioError: unreadable file or empty track; NoAudioTrack: a video without audio.
    """
    import av
    import soxr

    path = check_input_file(path, "media file", AudioError)
    try:
        container = av.open(str(path))
    except Exception as err:  # PyAV's FFmpegError subclasses, OSError
        reason = (getattr(err, "strerror", None) or type(err).__name__).lower()
        raise AudioError(f"{path}: not a readable media file ({reason})") from err
    with container:
        if not container.streams.audio:
            raise NoAudioTrack(f"{path}: no audio track")
        ctx = container.streams.audio[0].codec_context
        to_float = av.AudioResampler(format="fltp", layout=ctx.layout, rate=ctx.sample_rate)
        to_sr = soxr.ResampleStream(ctx.sample_rate, sr, 1, dtype="float32", quality="HQ")
        count = 0
        try:
            for frame in container.decode(container.streams.audio[0]):
                for out in to_float.resample(frame):
                    chunk = to_sr.resample_chunk(_mono(out.to_ndarray()))
                    count += len(chunk)
                    yield chunk
            for out in to_float.resample(None):
                yield to_sr.resample_chunk(_mono(out.to_ndarray()))
        except av.error.FFmpegError as err:
            raise AudioError(f"{path}: audio decoding failed ({err})") from err
        last = to_sr.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
        if count + len(last) == 0:
            raise AudioError(f"{path}: audio track has no samples")
        yield last


def _mono(y: np.ndarray) -> np.ndarray:
    """``(channels, n)`` -> ``(n,)`` float32 by the channel mean (as ``librosa.to_mono``)."""
    y = y.astype(np.float32, copy=False)
    return np.ascontiguousarray(y[0] if y.shape[0] == 1 else np.mean(y, axis=0))


class LogmelStream:
    """Multi-scale :func:`logmel` of a signal fed in chunks, emitted in blocks of mel frames.

    Mel frame ``i`` of window ``n`` (centred, zero-padded as librosa) covers samples
    ``[i * hop - n // 2, i * hop - n // 2 + n)``; it is computed once those samples have arrived.
    Blocks hold a multiple of 16 mel frames (one analysis frame each) except the last.

    Example:
        ``stream = LogmelStream((512, 2048)); blocks = [stream.push(c) for c in chunks]``
        ``blocks.append(stream.finish())`` -> each block a ``{win: (frames, 128)}`` dict or None.
    """

    def __init__(
        self,
        windows: tuple[int, ...] = DEFAULT_WINDOWS,
        sr: int = SAMPLE_RATE,
        hop: int = HOP,
        block: int = 16 * SOUND_STRIDE,
    ) -> None:
        self.windows, self.sr, self.hop, self.block = tuple(windows), sr, hop, block
        self.reach = max(n - n // 2 for n in self.windows)  # samples needed after i * hop
        self.buf = np.zeros(0, dtype=np.float32)
        self.buf_start = 0  # absolute index of buf[0]
        self.total = 0  # samples received
        self.next = 0  # next mel frame to emit

    def push(self, y: np.ndarray) -> dict[int, np.ndarray] | None:
        """Add samples; return the next block of frames when one is complete."""
        self.buf = np.concatenate([self.buf, np.asarray(y, dtype=np.float32)])
        self.total += len(y)
        ready = (self.total - self.reach) // self.hop + 1 if self.total >= self.reach else 0
        stop = self.next + (ready - self.next) // self.block * self.block
        return self._emit(stop) if stop > self.next else None

    def finish(self) -> dict[int, np.ndarray] | None:
        """The remaining frames: ``1 + samples // hop`` in all (as librosa's centred STFT)."""
        stop = 1 + self.total // self.hop if self.total else 0
        return self._emit(stop) if stop > self.next else None

    @property
    def num_frames(self) -> int:
        """Mel frames emitted so far."""
        return self.next

    def _emit(self, stop: int) -> dict[int, np.ndarray]:
        start, out = self.next, {}
        for n in self.windows:
            lo = start * self.hop - n // 2
            seg = self._samples(lo, (stop - 1) * self.hop - n // 2 + n)
            mel = _mel_power(seg, self.sr, n, self.hop, center=False)
            out[n] = np.log1p(LOG_SCALE * mel).T.astype(np.float32)
        self.next = stop
        keep = max(0, stop * self.hop - max(n // 2 for n in self.windows) - self.buf_start)
        self.buf, self.buf_start = self.buf[keep:], self.buf_start + keep
        return out

    def _samples(self, lo: int, hi: int) -> np.ndarray:
        """Samples ``[lo, hi)``, zeros outside the signal (librosa's constant padding)."""
        seg = np.zeros(hi - lo, dtype=np.float32)
        a, b = max(lo, self.buf_start), min(hi, self.total)
        if b > a:
            seg[a - lo : b - lo] = self.buf[a - self.buf_start : b - self.buf_start]
        return seg


def decode_logmel(path: str | Path, windows: tuple[int, ...] = DEFAULT_WINDOWS) -> LogmelTrack:
    """The multi-scale log-mel of a whole track, in memory (the values the cache would store).

    Raises:
        AudioError: unreadable file or empty track; NoAudioTrack: a video without audio.
    """
    stream = LogmelStream(windows)
    blocks = [stream.push(chunk) for chunk in iter_audio(path)]
    blocks = [b for b in [*blocks, stream.finish()] if b is not None]
    if not blocks:
        return LogmelTrack({w: np.zeros((0, N_MELS), dtype=np.float32) for w in windows})
    return LogmelTrack({w: np.concatenate([b[w] for b in blocks]) for w in windows})


class LogmelTrack:
    """A track's log-mel maps in memory, read as :class:`ipd.features.reader.Features` reads the
    cached ones (``logmel``, ``logmel_all``, ``meta["audio"]["num_frames"]``).

    3 MB per minute of audio with three windows of 128 bands.
    """

    def __init__(self, mels: dict[int, np.ndarray]) -> None:
        self._mels = mels
        frames = min(len(m) for m in mels.values())
        self.meta = {"audio": {"num_frames": math.ceil(frames / SOUND_STRIDE)}}

    def logmel(self, win: int, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Mel frames ``[16 start, 16 stop)`` of window ``win``: ``(frames, 128)`` float32."""
        hi = None if stop is None else stop * SOUND_STRIDE
        return self._mels[win][start * SOUND_STRIDE : hi]

    def logmel_all(self, win: int) -> np.ndarray:
        """The whole map of window ``win``: ``(mel_frames, 128)`` float32."""
        return self._mels[win]
