"""Shared fixtures: one tiny SynthIPA world and its feature cache per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference-data"
TINY_SIZE = 128  # longer side of the extracted frames in tests (the paper uses 256)


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
