"""DDP on CPU: ``ipd train action`` in two gloo processes (``--trainer.strategy=ddp
--trainer.devices=2``); the validation clip AUC it logs, gathered from both ranks, equals the AUC
of the same checkpoint on the whole validation set in one process.

The tiny world has 9 validation sub-clips: Lightning's padding ``DistributedSampler`` would
validate one of them twice (5 + 5), and the gathered AUC differed from the one-process AUC
(0.557 vs 0.528 in a run of this recipe). The datamodules shard validation without repeats
(5 + 4, ``ipd.data.datamodules``). Under mixed precision the clip probabilities that feed
the AUC stay fp32.
"""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torchmetrics.functional.classification import multilabel_auroc

import ipd
from ipd.data.datamodules import FrameData
from ipd.models.vgg_fcn import VGGFCN
from ipd.staging.checkpoints import load_system
from ipd.systems.video import ActionLocaliser
from tests.conftest import TINY_SIZE


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def ddp_run(tiny_world: Path, tiny_cache: Path, tmp_path_factory) -> tuple[Path, str]:
    """One epoch of the action model (VT) in two CPU processes: the run folder and stdout."""
    root = tmp_path_factory.mktemp("ddp") / "action"
    source = str(Path(ipd.__file__).resolve().parents[1])  # the ipd this test imports
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])),
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(_free_port()),
        "OMP_NUM_THREADS": "1",
    }
    args = [
        sys.executable, "-m", "ipd", "train", "action",
        "--trainer.strategy=ddp", "--trainer.devices=2", "--trainer.accelerator=cpu",
        f"--trainer.default_root_dir={root}", "--trainer.max_epochs=1",
        "--trainer.enable_model_summary=false", "--trainer.enable_progress_bar=false",
        "--model.net=ipd.models.vgg_fcn.VGGFCN", "--model.net.init_args.width=0.125",
        "--model.net.init_args.in_channels=10", "--model.target=VT",
        f"--data.dataset={tiny_world}", f"--data.cache={tiny_cache}",
        "--data.stream=flow", f"--data.size={TINY_SIZE}",
    ]  # fmt: skip
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    return root, done.stdout


def _one_process_auc(checkpoint: Path, world: Path, cache: Path) -> tuple[float, int]:
    """Macro clip AUC of ``checkpoint`` over every validation sub-clip, and their number."""
    system = load_system(ActionLocaliser, checkpoint)
    data = FrameData(str(world), str(cache), stream="flow", size=TINY_SIZE)
    data.setup()
    probs, tags = [], []
    with torch.no_grad():
        for batch in data.val_dataloader():
            clip_probs, _ = system.clip_scores(batch)  # (B, G)
            probs.append(clip_probs)
            tags.append(batch["tags"][:, 0].long())  # (B, G): the video's tags
    probs, tags = torch.cat(probs), torch.cat(tags)
    auc = multilabel_auroc(probs, tags, num_labels=tags.shape[1], average="macro")
    return float(auc), len(probs)


@pytest.mark.slow  # ~20 s for the two processes, beside the tiny world's ~60 s (shared)
@pytest.mark.usefixtures("one_torch_thread")
def test_gathered_validation_auc_equals_the_one_process_auc(ddp_run, tiny_world, tiny_cache):
    root, _ = ddp_run
    rows = list(csv.DictReader((root / "logs" / "csv" / "metrics.csv").open()))
    logged = [float(row["val/auc"]) for row in rows if row["val/auc"]]
    assert len(logged) == 1  # one epoch, one validation (the sanity check logs nothing)
    best = root / "checkpoints" / "best.ckpt"
    checkpoint = torch.load(best, map_location="cpu", weights_only=True)
    (selection,) = [v for k, v in checkpoint["callbacks"].items() if "val/auc" in k]
    assert float(selection["best_model_score"]) == pytest.approx(logged[0], abs=1e-6)

    auc, clips = _one_process_auc(best, tiny_world, tiny_cache)
    # An odd count cannot be split evenly over two ranks: a padding sampler repeats a sub-clip.
    assert clips % 2 == 1
    assert logged[0] == pytest.approx(auc, abs=1e-6)


@pytest.mark.slow
def test_rank_zero_alone_reports_and_every_output_is_written_once(ddp_run):
    root, stdout = ddp_run
    assert stdout.count("best checkpoint:") == 1
    assert (root / "config.yaml").is_file()
    assert sorted(p.name for p in (root / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
    assert sorted(p.name for p in (root / "logs").iterdir()) == ["csv", "tensorboard"]


def test_clip_probabilities_stay_fp32_under_bf16_autocast():
    # What validation sees with --trainer.precision bf16-mixed (autocast; emulated on a CPU
    # without bf16, which is slow but fine for one tiny batch).
    system = ActionLocaliser(VGGFCN(num_classes=3, in_channels=10, width=0.125), target="VT")
    torch.manual_seed(0)
    batch = {"x": torch.randn(2, 1, 10, 64, 64), "tags": torch.ones(2, 1, 3)}
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        probs, _ = system.eval().clip_scores(batch)
        logits = system(batch["x"][:, 0]).amax(dim=(-2, -1))  # (2, 3) in bfloat16
    assert logits.dtype == torch.bfloat16 and probs.dtype == torch.float32
    assert torch.equal(probs, torch.sigmoid(logits.float()))
