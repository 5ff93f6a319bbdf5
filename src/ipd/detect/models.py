"""The detector's three models, from our checkpoints or from the authors' released weights.

Our checkpoints (``ipd train``) carry their input normalisation and the feature settings they were
trained on. The authors' release (github.com/ciaua/InstrumentPlayingDetection) is three plain state
dicts of their ``Net`` classes (``ipd.models.original``) plus the normalisation files of
``reference-data/instrument_playing/scalers``: the sound model's per-band log-mel scalers
``logmel_win{512,2048,8192}_{mean,std}.npy`` and the object model's ``mean_image.RGB.npy``. Both
routes give the same systems (``ActionLocaliser``, ``ObjectLocaliser``, ``SoundTagger``), so the
rest of the detector never asks where a model came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ipd.errors import InputError
from ipd.features.audio import DEFAULT_WINDOWS
from ipd.features.params import ExtractParams
from ipd.labels import LabelSpace, load_label_space
from ipd.systems.sound import SoundTagger
from ipd.systems.video import MEAN_RGB, ActionLocaliser, ObjectLocaliser

ORIGINAL_WINDOWS = (512, 2048, 8192)  # the released sound model's scales, in channel-group order
MEAN_IMAGE = "mean_image.RGB.npy"


@dataclass
class Detector:
    """The loaded models and everything needed to feed them.

    Attributes:
        action: the action model (always present).
        object: the object model, or None.
        sound: the sound model, or None.
        params: feature settings: frame size and flow algorithm of the action model, log-mel
            windows of the sound model.
        labels: the label space; output channel ``g`` is ``labels.names[g]``.
        sources: ``{"action" | "object" | "sound": provenance}`` (file and hash or "original").
        notes: what a user should know about the models (printed and written with the outputs).
        action_name: the paper's name of the action model (``VT``, ``SOT0503``, ...; from the
            checkpoint's target, or the authors' file name such as ``params.SOT0503.torch``),
            ``A`` when unknown.
    """

    action: ActionLocaliser
    object: ObjectLocaliser | None
    sound: SoundTagger | None
    params: ExtractParams
    labels: LabelSpace
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    action_name: str = "A"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.labels.names)


def load_detector(
    action: str | Path | None = None,
    object: str | Path | None = None,  # noqa: A002 - the model's name in the paper
    sound: str | Path | None = None,
    original_action: str | Path | None = None,
    original_object: str | Path | None = None,
    original_sound: str | Path | None = None,
    scalers: str | Path | None = None,
    labels: str | Path | None = None,
    size: int | None = None,
    flow: str | None = None,
) -> Detector:
    """Load the detector's models (ours or the authors', in any mix).

    Args:
        action: our action checkpoint; or ``original_action``: the authors' action state dict.
        object: our object checkpoint; or ``original_object``: the authors' object state dict.
        sound: our sound checkpoint; or ``original_sound``: the authors' sound state dict.
        scalers: folder of the authors' scalers (needed with ``original_sound``; with
            ``original_object`` its ``mean_image.RGB.npy`` is used, else the same built-in
            values).
        labels: label-space YAML (default ``annotations/instruments.yaml``, which is the
            release's output order).
        size: longer frame side in pixels (default: the action checkpoint's, 256 for the
            authors').
        flow: optical-flow algorithm (default: the action checkpoint's, Farneback for the
            authors').

    Raises:
        InputError: no action model or two for one role, unreadable or mismatching files, a
            model whose number of outputs differs from the label space.
    """
    _one_of("action", action, original_action, required=True)
    _one_of("object", object, original_object)
    _one_of("sound", sound, original_sound)
    space = load_label_space(labels)
    from ipd.staging.checkpoints import checkpoint_identity, extract_params_of, load_system

    sources, notes = {}, []
    if action is not None:
        action_system = load_system(ActionLocaliser, action)
        frame_params = extract_params_of(action)
        sources["action"] = checkpoint_identity(action)
        action_name = _trained_name(action_system)
    else:
        action_system = _original_vgg(original_action, 10, len(space))
        frame_params = ExtractParams()
        sources["action"] = _original_identity(original_action)
        action_name = _name_in_file(original_action)
    object_system = None
    if object is not None:
        object_system = load_system(ObjectLocaliser, object)
        sources["object"] = checkpoint_identity(object)
        trained = extract_params_of(object).size
        if trained != (size or frame_params.size):
            notes.append(
                f"object model trained on {trained}-px frames, run on "
                f"{size or frame_params.size}-px frames (the action model's size)"
            )
    elif original_object is not None:
        object_system = _original_vgg(original_object, 3, len(space), _mean_rgb(scalers))
        sources["object"] = _original_identity(original_object)
    sound_system, windows = None, DEFAULT_WINDOWS
    if sound is not None:
        sound_system = load_system(SoundTagger, sound)
        windows = extract_params_of(sound).windows
        sources["sound"] = checkpoint_identity(sound)
    elif original_sound is not None:
        sound_system = _original_sound(original_sound, scalers, len(space))
        windows = ORIGINAL_WINDOWS
        sources["sound"] = _original_identity(original_sound)
    systems = {"action": action_system, "object": object_system, "sound": sound_system}
    for role, system in systems.items():
        outputs = None if system is None else system.hparams.get("num_classes")
        if outputs is not None and outputs != len(space):
            raise InputError(
                f"{sources[role].split('#')[0]}: the {role} model has {outputs} outputs, "
                f"the label space {space.source} has {len(space)}"
            )
    try:
        params = ExtractParams(
            windows=windows, size=size or frame_params.size, flow=flow or frame_params.flow
        )
    except ValueError as err:
        raise InputError(f"bad feature settings: {err}") from err
    return Detector(
        action_system, object_system, sound_system, params, space, sources, notes, action_name
    )


def _trained_name(system: ActionLocaliser) -> str:
    """``VT``, ``ST05``, ``OT03``, ``SOT0503``, ... from the checkpoint's target and thresholds."""
    from ipd.evaluation.names import model_name

    target = system.target.value
    v = system.v if target in ("ST", "SOT") else None
    u = system.u if target in ("OT", "SOT") else None
    return model_name(target, v, u)


def _name_in_file(path: str | Path) -> str:
    """The paper's name in a released file name (``params.SOT0503.torch`` -> ``SOT0503``)."""
    from ipd.evaluation.names import parse_model_name

    for part in Path(path).name.split("."):
        parsed = parse_model_name(part)
        if parsed is not None and not parsed[3]:
            return part
    return "A"


def _one_of(role: str, ours, original, required: bool = False) -> None:
    if ours is not None and original is not None:
        raise InputError(f"give one {role} model: --{role} or --original-{role}, not both")
    if required and ours is None and original is None:
        raise InputError(f"an {role} model is required: --{role} CKPT or --original-{role} PTH")


def _original_identity(path: str | Path) -> str:
    from ipd.staging.checkpoints import checkpoint_identity

    return f"original:{checkpoint_identity(path)}"


def _original_vgg(
    path: str | Path, in_channels: int, num_classes: int, mean_rgb: tuple | None = None
) -> ActionLocaliser | ObjectLocaliser:
    """The authors' action (10 channels) or object (3 channels) ``Net`` in our system."""
    from ipd.models.original import load_original_action_object

    net = load_original_action_object(path, in_channels, num_classes)
    if in_channels == 10:
        system = ActionLocaliser(net, num_classes=num_classes)
    else:
        system = ObjectLocaliser(net, num_classes=num_classes, mean_rgb=mean_rgb or MEAN_RGB)
    return system.eval()


def _mean_rgb(scalers: str | Path | None) -> tuple[float, float, float] | None:
    """The authors' mean colour from ``scalers/mean_image.RGB.npy`` (None without ``scalers``)."""
    if scalers is None:
        return None
    path = Path(scalers) / MEAN_IMAGE
    mean = _load_vector(path, 3)
    return tuple(float(v) for v in mean)


def _original_sound(path: str | Path, scalers: str | Path | None, num_classes: int) -> SoundTagger:
    """The authors' sound ``Net`` with its scalers as our system's standardizer."""
    from ipd.models.original import load_original_sound

    if scalers is None:
        raise InputError(
            "--original-sound needs --scalers DIR (the authors' logmel_win*_{mean,std}.npy, "
            "reference-data/instrument_playing/scalers)"
        )
    net = load_original_sound(path, num_classes, num_scales=len(ORIGINAL_WINDOWS))
    means, stds = [], []
    for win in ORIGINAL_WINDOWS:
        means.append(_load_vector(Path(scalers) / f"logmel_win{win}_mean.npy", net.n_mels))
        stds.append(_load_vector(Path(scalers) / f"logmel_win{win}_std.npy", net.n_mels))
    system = SoundTagger(net, num_classes=num_classes, num_scales=len(ORIGINAL_WINDOWS))
    system.set_standardizer(torch.from_numpy(np.stack(means)), torch.from_numpy(np.stack(stds)))
    return system.eval()


def _load_vector(path: Path, length: int) -> np.ndarray:
    """A ``(length,)`` finite float vector from a ``.npy`` file (never unpickled)."""
    if not path.is_file():
        raise InputError(f"{path}: scaler file not found")
    try:
        value = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: not a readable .npy array ({err})") from err
    value = np.asarray(value, dtype=np.float32).reshape(-1)
    if value.shape != (length,) or not np.all(np.isfinite(value)):
        raise InputError(f"{path}: expected {length} finite values, got shape {value.shape}")
    return value
