"""The package outside a checkout: build the wheel, install it into a fresh virtual environment
in another folder, and use it from there (``ipd --help``, a tiny synthesis, the label space, the
shipped configs, ``python -m data_tools``). The new environment sees the project environment's
packages through a ``.pth`` line (no second torch download); this checkout's editable install is
not among them: ``import ipd`` must come from the wheel."""

from __future__ import annotations

import json
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def run(*argv, cwd: Path) -> str:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """``(python of the new environment, a folder outside the checkout)``."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"  # a copy: building writes build/ and *.egg-info beside the sources
    skip = shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__", "demo", "study")
    shutil.copytree(REPO, source, symlinks=True, ignore=skip)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
        "-w", root / "dist", source, cwd=root)  # fmt: skip
    (wheel,) = (root / "dist").glob("ipd-*.whl")
    env = root / "env"
    run(sys.executable, "-m", "venv", "--without-pip", env, cwd=root)
    python = env / "bin" / "python"
    target = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                      cwd=root).strip())  # fmt: skip
    ours = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (target / "project_env.pth").write_text("\n".join(ours) + "\n")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel,
        cwd=root)  # fmt: skip
    outside = root / "elsewhere"
    outside.mkdir()
    return python, outside, wheel


def test_the_wheel_holds_the_package_data_and_data_tools(installed):
    _, _, wheel = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert "ipd/instruments.yaml" in names and "ipd/configs/paper/action_SOT0503.yaml" in names
    assert "data_tools/yt8m_ipa.py" in names and "data_tools/audioset_labels.csv" in names
    assert not any(name.startswith("tests/") for name in names)


def test_the_installed_package_works_from_another_folder(installed):
    python, outside, _ = installed
    where = run(python, "-c", "import ipd; print(ipd.__file__)", cwd=outside)
    assert not where.startswith(str(REPO)) and "site-packages" in where
    names = run(python, "-c", "from ipd.labels import load_label_space as l; print(l().names)",
                cwd=outside)  # fmt: skip
    assert names.strip() == str(["Accordion", "Cello", "Drum", "Flute", "Guitar", "Piano",
                                 "Saxophone", "Trumpet", "Violin"])  # fmt: skip
    ipd = python.parent / "ipd"
    assert run(ipd, "--help", cwd=outside).startswith("usage: ipd")
    listed = run(ipd, "configs", cwd=outside)
    assert "site-packages" in listed.splitlines()[0] and "paper/object.yaml" in listed
    run(ipd, "synth", "--preset", "tiny", "--out", outside / "data", cwd=outside)
    index = (outside / "data" / "index.csv").read_text().splitlines()
    assert index[0].startswith("video_id,split,tags,path") and len(index) == 1 + 27
    assert json.loads((outside / "data" / "synth_config.json").read_text())["seed"] == 0
    assert len(list((outside / "data" / "videos").glob("*.mp4"))) == 27
    help_text = run(python, "-m", "data_tools.yt8m_ipa", "--help", cwd=outside)
    assert help_text.startswith("usage:")


def test_nothing_imported_is_undeclared():
    """Every third-party module the package imports is a declared dependency, and nothing
    declared goes unused."""
    import ast

    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    requirements = [*project["dependencies"], *extras["synth"], *extras["ray"]]
    names = {r.split(">")[0].split("[")[0].strip().lower() for r in requirements}
    module_of = {"opencv-contrib-python-headless": "cv2", "pyyaml": "yaml", "pillow": "PIL",
                 "scikit-learn": "sklearn"}  # fmt: skip
    declared = {module_of.get(n, n.replace("-", "_")) for n in names}
    imported = set()
    for path in [*(REPO / "src").rglob("*.py"), *(REPO / "data_tools").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    ours = {"ipd", "data_tools", "__future__"}
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m not in ours}
    assert third_party - declared == set(), "imported but not declared"
    # declared and not imported: tensorboard (Lightning's TensorBoardLogger loads it)
    assert declared - third_party == {"tensorboard"}, "declared but not imported"
