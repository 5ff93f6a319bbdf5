"""Import of the authors' released clip2frame model (Theano/Lasagne, github.com/ciaua/clip2frame).

The release (``model.20160309_111546.npz`` with ``standardizers/`` and ``tag_list.top188.txt``) is
the paper's best frame-level model: 6 scales (STFT windows 512 ... 16384), 2 early convs per scale,
late convs 512, 512, 188, adaptive Gaussian accumulation of 256 taps, mean pooling. Exactness needs:

- Theano's ``conv2d`` is a true convolution: every kernel is flipped on both axes (time and mel)
  relative to PyTorch's cross-correlation, including the first conv that spans all 128 mel bins.
- 'strictsame' time padding (4 before, 3 after for 8 taps) and ragged max-pool windows: already
  the behaviour of :class:`~ipd.models.clip2frame.Clip2Frame`.
- The last array holds log standard deviations; the Gaussian filter is applied as a true
  convolution too (``theano_convolution=True``).

Arrays ``arr_0 .. arr_30``: per scale ``(conv1 W, b, conv2 W, b)`` in window order, then late1 W, b,
late2 W, b, output W, b, then the 188 log-sigmas. Weights are ``(out, in, time, freq)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ipd.errors import InputError
from ipd.models.clip2frame import Clip2Frame

RELEASED_MODEL = "model.20160309_111546.npz"
RELEASED_WINDOWS = (512, 1024, 2048, 4096, 8192, 16384)
RELEASED_TAGS = "tag_list.top188.txt"
RELEASED_THRESHOLDS = "threshold.20160309_111546.with_magnatagatune.npy"


def feature_name(window: int) -> str:
    """The authors' folder name of one input scale, e.g. ``logmelspec10000.16000_512_512_128.0``."""
    return f"logmelspec10000.16000_{window}_512_128.0"


@dataclass
class ReleasedClip2Frame:
    """The imported model with everything needed to run it on audio.

    Attributes:
        model: the network in eval mode, ``(B, 6, 128, T)`` standardized log-mels -> outputs.
        tags: the 188 MagnaTagATune tags in output order.
        windows: STFT window of each input scale, in model input order.
        mean: ``(scales, 128)`` per-band means used to standardize each scale.
        std: ``(scales, 128)`` per-band standard deviations.
        thresholds: ``(188,)`` the authors' F1-best per-tag thresholds, or None if absent.
    """

    model: Clip2Frame
    tags: list[str]
    windows: tuple[int, ...]
    mean: np.ndarray
    std: np.ndarray
    thresholds: np.ndarray | None


def read_tag_list(path: str | Path) -> list[str]:
    """Tags of a ``tag_list.*.txt`` file, one per line, blank lines ignored."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: tag list not found")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def _load_npy(path: Path) -> np.ndarray:
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as err:
        raise InputError(f"{path}: not a plain numeric .npy array ({err})") from err


def load_standardizers(
    folder: str | Path, windows: tuple[int, ...] = RELEASED_WINDOWS
) -> tuple[np.ndarray, np.ndarray]:
    """Per-scale ``mean`` and ``std`` from ``standardizers/<feature_name>/{mean,std}.npy``.

    Returns:
        ``(mean, std)``, each ``(len(windows), 128)`` float32.
    """
    base = Path(folder) / "standardizers"
    means, stds = [], []
    for win in windows:
        for name, out in (("mean", means), ("std", stds)):
            path = base / feature_name(win) / f"{name}.npy"
            arr = _load_npy(path).astype(np.float32)
            if arr.shape != (128,):
                raise InputError(f"{path}: expected shape (128,), got {arr.shape}")
            out.append(arr)
    return np.stack(means), np.stack(stds)


def released_parameters(path: str | Path) -> list[np.ndarray]:
    """The arrays ``arr_0, arr_1, ...`` of a Lasagne ``np.savez`` file, in order (no pickles)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: model file not found")
    try:
        with np.load(path, allow_pickle=False) as npz:
            count = len(npz.files)
            missing = [f"arr_{i}" for i in range(count) if f"arr_{i}" not in npz.files]
            if missing:
                raise InputError(f"{path}: not a Lasagne parameter file (missing {missing[0]})")
            return [npz[f"arr_{i}"] for i in range(count)]
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read as .npz ({err})") from err


def _expect(path: Path, index: int, arr: np.ndarray, shape: tuple[int, ...]) -> torch.Tensor:
    if arr.shape != shape:
        raise InputError(f"{path}: arr_{index} has shape {arr.shape}, expected {shape}")
    return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))


def clip2frame_from_lasagne(
    params: list[np.ndarray],
    path: str | Path = "<params>",
    num_scales: int = 6,
    flip_kernels: bool = True,
) -> Clip2Frame:
    """Build the released architecture and copy Lasagne parameters into it.

    Args:
        params: the arrays in Lasagne order (see module docstring).
        path: file name used in error messages.
        num_scales: input scales of the saved model.
        flip_kernels: flip conv kernels (Theano true convolution -> PyTorch cross-correlation) and
            apply the Gaussian as a true convolution. Only ``False`` to demonstrate a wrong import.
    """
    path = Path(path)
    n_expected = 4 * num_scales + 7
    if len(params) != n_expected:
        raise InputError(
            f"{path}: {len(params)} arrays, expected {n_expected} for {num_scales} scales"
        )
    num_classes = params[-1].shape[0] if params[-1].ndim == 1 else -1
    filters = params[0].shape[0]
    model = Clip2Frame(
        num_classes=num_classes,
        num_scales=num_scales,
        early_layers=2,
        early_filters=filters,
        late_channels=(params[4 * num_scales].shape[0], params[4 * num_scales + 2].shape[0]),
        accumulation="adaptive",
        theano_convolution=flip_kernels,
    )
    state = {}
    # Lasagne (out, in, time, freq) -> Conv1d (out, in * freq, time); the first conv has in = 1
    # and takes the 128 mel bins as input channels, later convs have freq = 1.
    for s in range(num_scales):
        for k, index in enumerate((4 * s, 4 * s + 2)):
            conv = model.early[s][4 * k + 1]
            out_c, in_c, taps = conv.weight.shape
            shape = (out_c, 1, taps, in_c) if k == 0 else (out_c, in_c, taps, 1)
            weight = _expect(path, index, params[index], shape)
            if flip_kernels:  # Theano true convolution: flip time and frequency
                weight = weight.flip(2, 3)
            weight = weight.permute(0, 3, 2, 1)[:, :, :, 0] if k == 0 else weight[:, :, :, 0]
            state[f"early.{s}.{4 * k + 1}.weight"] = weight
            state[f"early.{s}.{4 * k + 1}.bias"] = _expect(
                path, index + 1, params[index + 1], (out_c,)
            )
    convs = [m for m in model.late if isinstance(m, torch.nn.Conv1d)]
    late_names = [n for n, m in model.late.named_children() if isinstance(m, torch.nn.Conv1d)]
    for k, (name, conv) in enumerate(zip(late_names, convs, strict=True)):
        i = 4 * num_scales + 2 * k
        out_c, in_c, _ = conv.weight.shape
        # 1x1 kernels: flipping changes nothing, only the trailing (1, 1) axes go.
        weight = _expect(path, i, params[i], (out_c, in_c, 1, 1))
        state[f"late.{name}.weight"] = weight[:, :, :, 0]
        state[f"late.{name}.bias"] = _expect(path, i + 1, params[i + 1], (out_c,))
    state["accumulation.log_sigma"] = _expect(path, n_expected - 1, params[-1], (num_classes,))
    model.load_state_dict(state)
    return model.eval()


def load_released_clip2frame(
    folder: str | Path,
    model_file: str = RELEASED_MODEL,
    flip_kernels: bool = True,
) -> ReleasedClip2Frame:
    """Load the released model, its standardizers, tag list and thresholds from ``folder``.

    ``folder`` is the released data folder (``../shared/reference-data/clip2frame`` here, or the
    ``data/`` folders of a clip2frame checkout arranged the same way). Files are read with
    ``allow_pickle=False``; the authors' ``scaler.pkl`` files are never unpickled.

    Raises:
        InputError: a missing file or an array of the wrong shape (the message names the file).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: clip2frame folder not found")
    model_path = folder / model_file
    model = clip2frame_from_lasagne(
        released_parameters(model_path), model_path, len(RELEASED_WINDOWS), flip_kernels
    )
    tags = read_tag_list(folder / RELEASED_TAGS)
    if len(tags) != model.num_classes:
        raise InputError(
            f"{folder / RELEASED_TAGS}: {len(tags)} tags for {model.num_classes} outputs"
        )
    mean, std = load_standardizers(folder, RELEASED_WINDOWS)
    thresholds = None
    if (folder / RELEASED_THRESHOLDS).is_file():
        thresholds = _load_npy(folder / RELEASED_THRESHOLDS).astype(np.float32)
    return ReleasedClip2Frame(model, tags, RELEASED_WINDOWS, mean, std, thresholds)
