"""Fixtures of the robustness suite: the generated inputs, a tiny tagger, and ``ipd`` run as the
entry point runs it (in this process, so the suite stays fast; ``test_entry_point`` checks the
real executable once)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.robustness.media import make_media


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, Path]:
    return make_media(tmp_path_factory.mktemp("media"))


@pytest.fixture(scope="session")
def tiny_tagger(tmp_path_factory) -> Path:
    """A saved 3-tag chapter-3 tagger with random weights (``ipd tag --model``)."""
    from ipd.models.clip2frame import Clip2Frame
    from ipd.tagging.tagger import Clip2FrameTagger

    config = {"num_classes": 3, "num_scales": 2, "late_channels": (8, 8)}
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(2, 128)).astype(np.float32)
    std = rng.uniform(1, 2, size=(2, 128)).astype(np.float32)
    tagger = Clip2FrameTagger(Clip2Frame(**config), ["a", "b", "c"], (512, 2048), mean, std)
    path = tmp_path_factory.mktemp("tagger") / "tiny.pt"
    tagger.save(path, config)
    return path


class Ran:
    """What one command did: its exit status and its output, split in lines."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err
        self.err_lines = [line for line in err.splitlines() if line.strip()]

    def one_line_error(self) -> str:
        """The single ``error: ...`` line (asserting there is exactly one line on stderr)."""
        assert self.code == 2, (self.code, self.err)
        assert len(self.err_lines) == 1, self.err
        assert self.err_lines[0].startswith("error: "), self.err
        return self.err_lines[0]


@pytest.fixture
def ipd(capfd):
    """``ipd(*argv) -> Ran``: the ``ipd`` entry point in this process, output captured (C-level
    writes of FFmpeg or decord included)."""
    from ipd.cli.main import main

    def run(*argv: str | Path) -> Ran:
        capfd.readouterr()
        code = main([str(a) for a in argv])
        captured = capfd.readouterr()
        return Ran(code, captured.out, captured.err)

    return run
