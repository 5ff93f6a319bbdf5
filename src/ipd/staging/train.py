"""``ipd train <stage>``: one LightningCLI per stage; the typed ``__init__`` arguments of the
system and datamodule classes are the config schema (configs/paper, configs/demo).

A run folder (``trainer.default_root_dir``) holds ``config.yaml`` (the resolved config),
``checkpoints/best.ckpt`` (best validation clip AUC), ``checkpoints/last.ckpt`` (resume point) and
``logs/`` (CSV and TensorBoard). Rerunning the same command resumes from ``last.ckpt``; a finished
run (``max_epochs`` reached) is left as it is.
"""

from __future__ import annotations

import gc
import re
import sys
from contextlib import contextmanager
from pathlib import Path

from jsonargparse import ArgumentError
from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from ipd.data.datamodules import FrameData, ImageData, SoundData
from ipd.errors import InputError
from ipd.labels import load_label_space
from ipd.precision import check_precision
from ipd.systems.sound import SoundTagger
from ipd.systems.video import ActionLocaliser, ObjectLocaliser

STAGES = {
    "sound": (SoundTagger, SoundData),
    "pretrain": (ObjectLocaliser, ImageData),  # Conv1-5 of the object model on labelled images
    "object": (ObjectLocaliser, FrameData),
    "action": (ActionLocaliser, FrameData),
}


class StageCLI(LightningCLI):
    """LightningCLI whose trainer always logs and checkpoints into the run folder, and whose
    number of classes is the label space's (``data.labels``), set in no config."""

    def add_arguments_to_parser(self, parser) -> None:
        for target in ("model.num_classes", "model.net.init_args.num_classes"):
            parser.link_arguments("data.labels", target, compute_fn=_label_count, apply_on="parse")

    def instantiate_trainer(self, **kwargs) -> Trainer:
        trainer_config = self._get(self.config_init, "trainer", default={})
        _check_precision(trainer_config)
        root = Path(trainer_config.get("default_root_dir") or "runs/default")
        # A resumed run logs to a new CSV folder (csv-1, csv-2, ...): Lightning's CSV logger
        # would otherwise replace the metrics the interrupted run already wrote.
        resumed = len(list((root / "logs").glob("csv*"))) if (root / "logs").is_dir() else 0
        kwargs.setdefault(
            "logger",
            [
                CSVLogger(root, name="logs", version=f"csv-{resumed}" if resumed else "csv"),
                TensorBoardLogger(root, name="logs", version="tensorboard"),
            ],
        )
        callbacks = list(trainer_config.get("callbacks") or [])
        # Two checkpoints: the best validation clip AUC (model selection), and the latest epoch
        # (the resume point; Lightning's own save_last only follows improvements of the monitor).
        # The latest is saved at the end of every training epoch: by default Lightning saves at
        # validation end when check_val_every_n_epoch > 1, so epochs without validation (and runs
        # shorter than the validation period) would have no resume point.
        callbacks.append(
            ModelCheckpoint(
                dirpath=root / "checkpoints",
                filename="best",
                monitor="val/auc",
                mode="max",
                save_top_k=1,
                enable_version_counter=False,
            )
        )
        callbacks.append(
            ModelCheckpoint(
                dirpath=root / "checkpoints",
                filename="last",
                monitor=None,
                save_top_k=1,
                every_n_epochs=1,
                save_on_train_epoch_end=True,
                enable_version_counter=False,
            )
        )
        kwargs["callbacks"] = callbacks
        return super().instantiate_trainer(**kwargs)


def _check_precision(trainer_config) -> None:
    """Refuse ``trainer.precision`` bf16 (``bf16``, ``bf16-mixed``, ``bf16-true``) where the
    device would only emulate it (:mod:`ipd.precision`), in one line."""
    precision = str(trainer_config.get("precision") or "32")
    if "bf16" not in precision:
        return
    import torch

    accelerator = str(trainer_config.get("accelerator") or "auto")
    gpu = accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()
    check_precision("bf16", "cuda" if gpu else "cpu")


def _label_count(labels: str | None) -> int:
    return len(load_label_space(labels))


def build_cli(stage: str, args: list[str]) -> StageCLI:
    """Parse ``args`` for ``stage`` and instantiate model, datamodule and trainer (no fitting).

    Raises:
        InputError: a config that does not parse (YAML), a wrong type or an unknown key, in one
            line naming the config files.
    """
    model_class, data_class = STAGES[stage]
    # LightningCLI warns when sys.argv also holds arguments; ours are the ones after the stage.
    with _argv([f"ipd train {stage}"]):
        try:
            return _cli(model_class, data_class, stage, args)
        except ArgumentError as err:
            raise InputError(f"{_configs_named(args, stage)}: {_one_line(err)}") from err


def _configs_named(args: list[str], stage: str) -> str:
    """The ``--config`` files of ``args`` (or the command, when there are none)."""
    files = [b for a, b in zip(args, args[1:], strict=False) if a in ("--config", "-c")]
    files += [a.split("=", 1)[1] for a in args if a.startswith("--config=")]
    return ", ".join(files) or f"ipd train {stage}"


def _one_line(err: ArgumentError) -> str:
    """jsonargparse's message on one line, with ``<class 'float'>`` said as ``float``."""
    text = re.sub(r"<class '(?:[\w.]+\.)?(\w+)'>", r"\1", str(err))
    return "; ".join(line.strip() for line in text.splitlines() if line.strip()).replace(":;", ":")


@contextmanager
def _argv(argv: list[str]):
    saved, sys.argv = sys.argv, argv
    try:
        yield
    finally:
        sys.argv = saved


def _cli(model_class: type, data_class: type, stage: str, args: list[str]) -> StageCLI:
    return StageCLI(
        model_class,
        data_class,
        args=args,
        run=False,
        save_config_callback=None,
        seed_everything_default=0,
        trainer_defaults={
            "default_root_dir": f"runs/{stage}",
            "accelerator": "auto",
            "deterministic": "warn",
            "log_every_n_steps": 5,
        },
        parser_kwargs={"prog": f"ipd train {stage}", "default_env": False, "exit_on_error": False},
    )


def train(stage: str, args: list[str]) -> Path:
    """Fit (or resume) one stage; returns the best checkpoint's path."""
    cli = build_cli(stage, args)
    root = Path(cli.trainer.default_root_dir)
    root.mkdir(parents=True, exist_ok=True)
    # Under DDP every process runs this function (Lightning's launcher re-runs the command,
    # torchrun and srun start them all); the config is written once. Checkpoints and logs are
    # Lightning's, written by rank 0 alone.
    if cli.trainer.is_global_zero:
        cli.parser.save(cli.config, root / "config.yaml", overwrite=True, multifile=False)
    last = root / "checkpoints" / "last.ckpt"
    cli.trainer.fit(
        cli.model, datamodule=cli.datamodule, ckpt_path=last if last.is_file() else None
    )
    # The trainer, model and data refer to each other: free them (and the decoded features the
    # datasets keep in memory) now, not at some later garbage collection, before the next stage.
    del cli
    gc.collect()
    return selected_checkpoint(root)


def selected_checkpoint(run: str | Path) -> Path:
    """A run's model: ``checkpoints/best.ckpt`` (best val/auc), or ``last.ckpt`` when no
    validation has run yet (e.g. fewer epochs than ``check_val_every_n_epoch``)."""
    checkpoints = Path(run) / "checkpoints"
    best = checkpoints / "best.ckpt"
    return best if best.is_file() else checkpoints / "last.ckpt"
