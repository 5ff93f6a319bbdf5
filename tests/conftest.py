"""Shared fixtures: one tiny SynthIPA world and its feature cache per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference-data"
TINY_SIZE = 128  # longer side of the extracted frames in tests (the paper uses 256)


@pytest.fixture
def one_torch_thread():
    """Torch on one thread for one test, then the previous setting back.

    Set for a whole module with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``;
    a module-level ``torch.set_num_threads(1)`` would run at collection and slow every later
    test (the reduced demo took 906 s instead of 631 s) and change its float sums.
    """
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


@pytest.fixture(scope="session")
def reference_data() -> Path:
    """The authors' released artifacts (../shared/reference-data); skip when absent."""
    if not REFERENCE.is_dir():
        pytest.skip("../shared/reference-data not found")
    return REFERENCE


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory) -> Path:
    """``ipd synth --preset tiny --seed 0``: 9 instruments x (train, val, test), 6-s videos."""
    from ipd.cli.main import main

    out = tmp_path_factory.mktemp("tiny") / "data"
    assert main(["synth", "--preset", "tiny", "--out", str(out), "--seed", "0"]) == 0
    return out


@pytest.fixture(scope="session")
def tiny_cache(tiny_world: Path) -> Path:
    """All three feature streams of ``tiny_world`` at a 128-px longer side."""
    from ipd.cli.main import main

    cache = tiny_world.parent / "cache"
    argv = ["extract", str(tiny_world), "--cache", str(cache), "--size", str(TINY_SIZE)]
    assert main([*argv, "--workers", "2"]) == 0
    return cache


TRAINER = ["--trainer.enable_model_summary=false", "--trainer.enable_progress_bar=false"]


def _train(stage: str, root: Path, world: Path, cache: Path, net: str, extra: list[str]) -> Path:
    from ipd.staging.train import train

    return train(
        stage,
        [
            f"--trainer.default_root_dir={root}", "--trainer.max_epochs=1", *TRAINER,
            f"--model.net={net}", "--model.net.init_args.width=0.125",
            f"--data.dataset={world}", f"--data.cache={cache}", *extra,
        ],
    )  # fmt: skip


@pytest.fixture(scope="session")
def tiny_ckpts(tiny_world, tiny_cache, tmp_path_factory) -> dict[str, Path]:
    """One epoch of sound, object and action (VT: no teachers needed) on the tiny world (width
    0.125, 128-px frames): checkpoints for the commands that need a model."""
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    runs = tmp_path_factory.mktemp("tiny_runs")
    vgg, frames = "ipd.models.vgg_fcn.VGGFCN", [f"--data.size={TINY_SIZE}"]
    try:
        return {
            "sound": _train("sound", runs / "sound", tiny_world, tiny_cache,
                            "ipd.models.sound_fcn.SoundFCN",
                            ["--data.clip_frames=8", "--data.clips_per_batch=4"]),
            "object": _train("object", runs / "object", tiny_world, tiny_cache, vgg,
                             ["--model.net.init_args.in_channels=3", "--data.stream=rgb", *frames]),
            "action": _train("action", runs / "action", tiny_world, tiny_cache, vgg,
                             ["--model.net.init_args.in_channels=10", "--model.target=VT",
                              "--data.stream=flow", *frames]),
        }  # fmt: skip
    finally:
        torch.set_num_threads(saved)
