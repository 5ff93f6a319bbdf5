"""The imported (or any saved) clip2frame tagger as the sound network of the training pipeline.

:class:`InstrumentClip2Frame` is an ``nn.Module`` with the ``predict(mels) -> (frames, clip)`` call
of the sound systems (:class:`ipd.systems.sound.SoundTagger`), whose outputs are instruments of the
label space instead of tags. Its constructor arguments are plain strings, so a config can name it::

    net:
      class_path: ipd.tagging.teacher_net.InstrumentClip2Frame
      init_args: {clip2frame_dir: ../shared/reference-data/clip2frame}

:func:`write_teacher_checkpoint` writes a checkpoint of the sound system around it, with the
authors' standardization in the system's buffers and the six STFT windows as the datamodule's
``windows``: ``ipd teach sound --checkpoint THAT_FILE ...`` then stores the released model's
instrument activations for the action stage without any training. Uncovered instruments
(Accordion) are NaN: the consumer must mask them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from ipd.errors import InputError
from ipd.labels import load_label_space
from ipd.tagging.tagger import Clip2FrameTagger
from ipd.tagging.teacher import InstrumentTagMap


class InstrumentClip2Frame(nn.Module):
    """A clip2frame network whose outputs are mapped from tags to instruments (max over tags).

    Args:
        clip2frame_dir: the authors' release folder.
        model: a tagger file written by :meth:`Clip2FrameTagger.save` (instead of the release).
        labels: label-space YAML (default: ``annotations/instruments.yaml``).
        accumulated: frames after (True) or before the Gaussian accumulation.
    """

    def __init__(
        self,
        clip2frame_dir: str | None = None,
        model: str | None = None,
        labels: str | None = None,
        accumulated: bool = True,
    ) -> None:
        super().__init__()
        if (clip2frame_dir is None) == (model is None):
            raise InputError("clip2frame teacher: give exactly one of clip2frame_dir or model")
        tagger = (
            Clip2FrameTagger.from_released(clip2frame_dir)
            if clip2frame_dir is not None
            else Clip2FrameTagger.load(model)
        )
        self.tagger = tagger
        self.net = tagger.model
        self.mapping = InstrumentTagMap.from_labels(load_label_space(labels), tagger.tags)
        self.accumulated = accumulated

    @property
    def windows(self) -> tuple[int, ...]:
        return self.tagger.windows

    def predict(
        self, scales: Sequence[torch.Tensor] | torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Standardized log-mels -> instruments per segment ``(B, G, T_seg)`` and clip ``(B, G)``.

        ``scales``: ``(B, scales, n_mels, T)`` or a list of ``(B, n_mels, T)``. NaN for
        instruments the model does not cover.
        """
        out = self.net(scales)
        frame = out.frame if self.accumulated else out.pre_accumulation
        return self.mapping.apply_torch(frame, dim=1), self.mapping.apply_torch(out.clip, dim=1)


def write_teacher_checkpoint(
    path: str | Path,
    clip2frame_dir: str | Path | None = None,
    model: str | Path | None = None,
    labels: str | Path | None = None,
    accumulated: bool = True,
) -> Path:
    """Write a sound-system checkpoint around :class:`InstrumentClip2Frame` (no training).

    It loads with ``ipd.staging.checkpoints.load_system(SoundTagger, path)`` (weights only): the
    hyperparameters hold the net as ``class_path``/``init_args``, so the folder or tagger file
    must still exist where it was when this was written (absolute paths are stored).
    """
    import lightning

    from ipd.systems.sound import SoundTagger

    init_args = {
        "clip2frame_dir": None if clip2frame_dir is None else str(Path(clip2frame_dir).resolve()),
        "model": None if model is None else str(Path(model).resolve()),
        "labels": None if labels is None else str(Path(labels).resolve()),
        "accumulated": accumulated,
    }
    net = InstrumentClip2Frame(**init_args)
    num_scales = len(net.windows)
    system = SoundTagger(net, num_classes=len(net.mapping.instruments), num_scales=num_scales)
    system.set_standardizer(torch.from_numpy(net.tagger.mean), torch.from_numpy(net.tagger.std))
    checkpoint = {
        "state_dict": system.state_dict(),
        "hyper_parameters": {
            "_instantiator": "lightning.pytorch.cli.instantiate_module",
            "net": {"class_path": f"{__name__}.InstrumentClip2Frame", "init_args": init_args},
            "num_classes": len(net.mapping.instruments),
            "num_scales": num_scales,
            "n_mels": net.net.n_mels,
        },
        "datamodule_hyper_parameters": {"windows": list(net.windows)},
        "pytorch-lightning_version": lightning.__version__,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, path)
    return path
