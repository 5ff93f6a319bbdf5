"""Oracle teachers: the sound and object teachers a perfect model would give, from the world's
ground truth, in the files ``ipd teach`` writes (``ipd.staging.teach``).

They stand in for the trained sound and object models when a test or a study asks what the action
model learns from a given target (VT, ST, OT, SOT), separately from how good the teachers are:

- sound, ``scores (T, G)``: 1 while the video's instrument sounds at analysis frame ``t``
  (``t = 0.512 k`` s; the rule the key points follow, ``Timeline.sounding``), else 0; every other
  class 0.
- object, ``maps (T, G, h, w)`` on the action model's map grid (the VGG FCN on the ``size``-px
  flow frames: cell ``(i, j)`` centred on pixel ``(32 j, 32 i)``): 1 for the cells whose centre
  lies inside the box of the video's instrument at ``t``, else 0. An instrument smaller than the
  32-px stride can fall between cell centres; it then marks the one cell nearest its box centre,
  so that no frame with the instrument in view claims there is none. The silent second
  instrument some videos show is not marked: the oracle says where the video's instrument is.

Train videos have no stored boxes; every box is recomputed from the video's scene, which the
world config and the video's id determine (``ipd.synth.scene.sample_scene``). The files'
``source`` is ``oracle:<world fingerprint>``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ipd.data.index import read_index
from ipd.errors import InputError
from ipd.evaluation.predictions import MapGrid, Prediction, save_prediction
from ipd.features.video import resized_shape
from ipd.files import write_text_atomic
from ipd.labels import LabelSpace
from ipd.synth import groundtruth as gt
from ipd.synth.builder import load_labels
from ipd.synth.config import WorldConfig
from ipd.synth.render import instrument_boxes
from ipd.synth.scene import Scene, sample_scene, video_specs
from ipd.timebase import analysis_times, num_analysis_frames


def write_oracle_teachers(
    dataset_dir: str | Path,
    out_sound: str | Path,
    out_object: str | Path,
    config: WorldConfig | None = None,
    splits: Sequence[str] = ("train", "val"),
    size: int = 256,
) -> list[str]:
    """Write ``out_sound/<video_id>.npz`` (``scores (T, G)``) and ``out_object/<video_id>.npz``
    (``maps (T, G, h, w)``) for every video of ``splits``, plus each folder's ``teacher.json``.

    Args:
        dataset_dir: a world rendered by ``ipd synth`` (its ``index.csv`` names the videos, its
            ``synth_config.json`` the knobs that made them).
        out_sound: folder of the oracle sound teacher (created if missing).
        out_object: folder of the oracle object teacher (created if missing).
        config: the knobs the caller believes made the world (checked against the stored ones;
            None: the stored ones).
        splits: which splits of the index to write (the action stage reads train).
        size: longer side (px) of the action model's flow frames (``ipd extract --size``).

    Returns:
        The video ids written, in index order.

    Raises:
        InputError: no ``synth_config.json``, a ``config`` with other knobs than the stored ones,
            or a video the world does not have.
    """
    dataset_dir = Path(dataset_dir)
    world = rendered_config(dataset_dir)
    if config is not None and config.fingerprint() != world.fingerprint():
        raise InputError(f"{dataset_dir}: rendered with other knobs than the given config "
                         f"({world.fingerprint()} vs {config.fingerprint()})")  # fmt: skip
    labels = load_labels(world)
    specs = {spec.video_id: spec for spec in video_specs(world, labels)}
    source = f"oracle:{world.fingerprint()}"
    folders = {"sound": Path(out_sound), "object": Path(out_object)}
    for kind, folder in folders.items():
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"kind": kind, "source": source, "labels": list(labels.names)}
        write_text_atomic(folder / "teacher.json", json.dumps(meta, indent=2) + "\n")

    frame = resized_shape(world.height, world.width, size)  # (H, W) of the flow frames
    grid, cells = action_grid(*frame)
    times = analysis_times(num_analysis_frames(world.duration_s))  # (T,) s
    written = []
    for entry in (e for split in splits for e in read_index(dataset_dir, split)):
        if entry.video_id not in specs:
            raise InputError(f"{dataset_dir}: video {entry.video_id} is not in the world {source}")
        scene = sample_scene(world, labels, specs[entry.video_id])
        scores = oracle_scores(scene, labels, times)
        maps = oracle_maps(scene, labels, times, frame, grid, cells)
        common, name = (entry.video_id, times, tuple(labels.names), source), f"{entry.video_id}.npz"
        save_prediction(folders["sound"] / name, Prediction(*common, scores=scores))
        save_prediction(folders["object"] / name, Prediction(*common, maps=maps, grid=grid))
        written.append(entry.video_id)
    return written


def action_grid(height: int, width: int) -> tuple[MapGrid, tuple[int, int]]:
    """The action model's map grid on a ``height x width`` flow frame and its ``(h, w)`` cells
    (the paper's VGG FCN: stride 32, offset 0, ``ceil(H / 32) x ceil(W / 32)``)."""
    from ipd.models.vgg_fcn import VGGFCN

    net = VGGFCN(in_channels=10, num_classes=1, width=1 / 64)  # the geometry ignores the width
    geometry = net.geometry
    return MapGrid(geometry.stride, geometry.offset, height, width), net.output_size(height, width)


def oracle_scores(scene: Scene, labels: LabelSpace, times: np.ndarray) -> np.ndarray:
    """``(T, G)`` float32: 1 where the scene's instrument sounds at ``times`` (s), else 0."""
    scores = np.zeros((len(times), len(labels)), np.float32)
    g = labels.index(scene.instrument.name)
    scores[:, g] = [scene.timeline.sounding(float(t)) for t in times]
    return scores


def oracle_maps(
    scene: Scene,
    labels: LabelSpace,
    times: np.ndarray,
    frame: tuple[int, int],
    grid: MapGrid,
    cells: tuple[int, int],
) -> np.ndarray:
    """``(T, G, h, w)`` float32: 1 for the cells of the scene instrument's box at ``times``.

    Args:
        scene: the video.
        labels: the label space (channel order).
        times: ``(T,)`` analysis-frame times (s).
        frame: ``(H, W)`` of the flow frames the action model sees.
        grid: where the map cells sit in those frames.
        cells: ``(h, w)`` of the map.
    """
    (height, width), (h, w) = frame, cells
    scale = max(height, width) / max(scene.width, scene.height)  # video px -> frame px
    (y0, dy), (x0, dx) = grid.cells(height, width)
    ys, xs = y0 + dy * np.arange(h), x0 + dx * np.arange(w)  # cell centres, px of the frame
    g = labels.index(scene.instrument.name)
    maps = np.zeros((len(times), len(labels), h, w), np.float32)
    for k, t in enumerate(times):
        for name, box in instrument_boxes(scene, float(t)):
            if name != scene.instrument.name:
                continue  # the silent second instrument
            bx0, by0, bx1, by1 = gt.box_to_256(box, scale, width, height)  # inclusive px
            inside = ((ys >= by0) & (ys <= by1))[:, None] & ((xs >= bx0) & (xs <= bx1))[None, :]
            if not inside.any():
                i = np.abs(ys - (by0 + by1) / 2).argmin()
                j = np.abs(xs - (bx0 + bx1) / 2).argmin()
                inside[i, j] = True
            maps[k, g] = inside
    return maps


def rendered_config(dataset_dir: str | Path) -> WorldConfig:
    """The knobs that rendered ``dataset_dir`` (its ``synth_config.json``).

    Raises:
        InputError: the file is missing or does not hold world knobs.
    """
    path = Path(dataset_dir) / "synth_config.json"
    if not path.is_file():
        raise InputError(f"{path}: not found (oracle teachers need a world made by ipd synth)")
    try:
        knobs = json.loads(path.read_text())
        return WorldConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in knobs.items()})
    except (json.JSONDecodeError, TypeError) as err:
        raise InputError(f"{path}: not the knobs of a SynthIPA world ({err})") from err
