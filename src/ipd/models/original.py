"""Import of the authors' released PyTorch weights (github.com/ciaua/InstrumentPlayingDetection).

The released files were written by PyTorch 0.3 from two ``Net`` classes (layouts in
``reference-data/README.md``). This module reads them safely (``torch.load(weights_only=True)``,
never a general unpickle), checks every key and shape, and copies the values into the project's
``VGGFCN`` / ``SoundFCN``:

- action/object ``Net(num_labels=9, feat_dim=10 or 3)``: ``conv1`` ... ``conv8`` -> ``VGGFCN``
  (``conv1-5`` -> ``features.convK``, ``conv6-8`` -> ``head.convK``; Conv6 pad 1 as released).
- sound ``Net``: the 3 scales stacked on the channel axis with grouped ``(5, 1)`` convs; group ``s``
  (output channels ``256 s ... 256 s + 255``) is scale ``s`` (windows 512, 2048, 8192) and becomes
  ``early.{s}`` of ``SoundFCN``; ``fconv1``/``fbn1``, ``fconv2``/``fbn2``, ``fconv`` become
  ``head.conv3``/``bn3``, ``conv4``/``bn4``, ``conv5``. The trailing width-1 axis is dropped.

Accepted file contents: a plain state dict, or the authors' checkpoint dict
``{"state_dict.model": ..., "state_dict.optimizer": ...}`` (what their ``jjtorch.utils.save_params``
writes and ``load_model`` reads). BatchNorm ``num_batches_tracked`` is optional (PyTorch 0.3 did
not write it). The original sound ``Net`` standardized its inputs inside ``forward`` with sklearn
scalers (``reference-data/instrument_playing/scalers``); ``SoundFCN`` expects standardized inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from torch import Tensor

from ipd.errors import InputError
from ipd.models.sound_fcn import SoundFCN
from ipd.models.vgg_fcn import PAPER_CHANNELS, VGGFCN
from ipd.models.weights_io import read_state_dict  # noqa: F401  (re-exported)

SOUND_EARLY, SOUND_LATE, SOUND_TAPS = 256, 512, 5
BN_STATS = ("weight", "bias", "running_mean", "running_var")
Shapes = dict[str, tuple[int, ...]]


def check_state_dict(
    state: Mapping[str, Tensor], expected: Shapes, source: str, optional: Shapes | None = None
) -> None:
    """Every key of ``expected`` present with its shape, nothing else (``optional`` may be absent).

    Raises:
        InputError: ``"{source}: <first problem>"`` (missing key, wrong shape, unexpected key).
    """
    optional = optional or {}
    for key, shape in {**expected, **optional}.items():
        if key not in state:
            if key in optional:
                continue
            raise InputError(f"{source}: missing key {key!r} (expected shape {shape})")
        value = state[key]
        got = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
        if got != shape:
            raise InputError(f"{source}: {key!r} has shape {got}, expected {shape}")
    extra = [key for key in state if key not in expected and key not in optional]
    if extra:
        raise InputError(f"{source}: unexpected key {extra[0]!r} ({len(extra)} unexpected keys)")


# --- action / object model ---------------------------------------------------------------------


def original_vgg_shapes(in_channels: int, num_classes: int = 9) -> Shapes:
    """Key -> shape of the released action/object ``Net(num_labels, feat_dim=in_channels)``."""
    c = PAPER_CHANNELS
    kernels = (7, 5, 3, 3, 3, 3, 1, 1)
    ins = (in_channels, *c)
    outs = (*c, num_classes)
    shapes: Shapes = {}
    for k, (cin, cout, size) in enumerate(zip(ins, outs, kernels, strict=True), start=1):
        shapes[f"conv{k}.weight"] = (cout, cin, size, size)
        shapes[f"conv{k}.bias"] = (cout,)
    return shapes


def vgg_from_original_state_dict(
    state: Mapping[str, Tensor], in_channels: int, num_classes: int = 9, source: str = "state dict"
) -> VGGFCN:
    """``VGGFCN`` (paper widths, Conv6 pad 1, eval mode) holding the released action/object weights.

    Args:
        state: the original ``Net`` state dict (keys ``conv1.weight`` ... ``conv8.bias``).
        in_channels: 10 for the action model, 3 for the object model.
        num_classes: output maps (9 in the release).
        source: name used in error messages (the file path).
    """
    check_state_dict(state, original_vgg_shapes(in_channels, num_classes), source)
    model = VGGFCN(in_channels=in_channels, num_classes=num_classes, conv6_padding=1)
    ours = {}
    for key, value in state.items():
        part = "features" if int(key[4]) <= 5 else "head"  # key is "convK.weight|bias"
        ours[f"{part}.{key}"] = value.float()
    model.load_state_dict(ours, strict=True)
    return model.eval()


def load_original_action_object(path: str | Path, in_channels: int, num_classes: int = 9) -> VGGFCN:
    """Read a released action (``in_channels=10``) or object (``in_channels=3``) model file.

    Raises:
        InputError: unreadable file or any key/shape that does not match the layout.
    """
    return vgg_from_original_state_dict(read_state_dict(path), in_channels, num_classes, str(path))


# --- sound model --------------------------------------------------------------------------------


def _bn_shapes(prefix: str, channels: int) -> tuple[Shapes, Shapes]:
    stats = {f"{prefix}.{name}": (channels,) for name in BN_STATS}
    return stats, {f"{prefix}.num_batches_tracked": ()}


def original_sound_shapes(
    num_classes: int = 9, num_scales: int = 3, n_mels: int = 128
) -> tuple[Shapes, Shapes]:
    """Required and optional key -> shape of the released sound ``Net`` (grouped convs)."""
    early = SOUND_EARLY * num_scales
    required: Shapes = {}
    optional: Shapes = {}
    convs = (
        ("conv1", "bn1", (early, n_mels, SOUND_TAPS, 1)),
        ("conv2", "bn2", (early, SOUND_EARLY, SOUND_TAPS, 1)),
        ("fconv1", "fbn1", (SOUND_LATE, early, 1, 1)),
        ("fconv2", "fbn2", (SOUND_LATE, SOUND_LATE, 1, 1)),
    )
    for conv, bn, shape in convs:
        required[f"{conv}.weight"] = shape
        required[f"{conv}.bias"] = (shape[0],)
        stats, counter = _bn_shapes(bn, shape[0])
        required.update(stats)
        optional.update(counter)
    required["fconv.weight"] = (num_classes, SOUND_LATE, 1, 1)
    required["fconv.bias"] = (num_classes,)
    return required, optional


def sound_from_original_state_dict(
    state: Mapping[str, Tensor],
    num_classes: int = 9,
    num_scales: int = 3,
    source: str = "state dict",
) -> SoundFCN:
    """``SoundFCN`` (paper widths, eval mode) holding the released sound-model weights.

    Args:
        state: the original sound ``Net`` state dict (grouped ``conv1``/``conv2``, ``fconv*``).
        num_classes: outputs (9 in the release).
        num_scales: groups of the early convs (3 in the release: windows 512, 2048, 8192).
        source: name used in error messages (the file path).
    """
    required, optional = original_sound_shapes(num_classes, num_scales)
    check_state_dict(state, required, source, optional)
    model = SoundFCN(num_classes=num_classes, num_scales=num_scales)
    ours = model.state_dict()  # keeps our num_batches_tracked when the file has none

    def put(key: str, value: Tensor) -> None:
        ours[key] = value.to(ours[key].dtype)

    for s in range(num_scales):
        group = slice(SOUND_EARLY * s, SOUND_EARLY * (s + 1))
        for i in (1, 2):
            put(f"early.{s}.conv{i}.weight", state[f"conv{i}.weight"][group, :, :, 0])
            put(f"early.{s}.conv{i}.bias", state[f"conv{i}.bias"][group])
            for name in BN_STATS:
                put(f"early.{s}.bn{i}.{name}", state[f"bn{i}.{name}"][group])
            if f"bn{i}.num_batches_tracked" in state:
                put(f"early.{s}.bn{i}.num_batches_tracked", state[f"bn{i}.num_batches_tracked"])
    for theirs, mine in (("fconv1", "conv3"), ("fconv2", "conv4"), ("fconv", "conv5")):
        put(f"head.{mine}.weight", state[f"{theirs}.weight"][:, :, :, 0])
        put(f"head.{mine}.bias", state[f"{theirs}.bias"])
    for theirs, mine in (("fbn1", "bn3"), ("fbn2", "bn4")):
        for name in (*BN_STATS, "num_batches_tracked"):
            if f"{theirs}.{name}" in state:
                put(f"head.{mine}.{name}", state[f"{theirs}.{name}"])
    model.load_state_dict(ours, strict=True)
    return model.eval()


def load_original_sound(path: str | Path, num_classes: int = 9, num_scales: int = 3) -> SoundFCN:
    """Read the released sound model file (``params.AudioSet.torch``) into a ``SoundFCN``.

    Inputs of the returned model: log-mel maps standardized with the released scalers
    (``scalers/logmel_win{512,2048,8192}_{mean,std}.npy``), in that window order.

    Raises:
        InputError: unreadable file or any key/shape that does not match the layout.
    """
    return sound_from_original_state_dict(read_state_dict(path), num_classes, num_scales, str(path))
