"""The whole evaluation chain on one tiny hand-computed video: prediction files on disk -> fusion
-> every table row -> metrics.json -> Markdown tables that hold the same numbers."""

import numpy as np

from ipd.evaluation.action import evaluate_rows
from ipd.evaluation.fusion import fuse_all
from ipd.evaluation.keypoints import FrameRecord, VideoAnnotation
from ipd.evaluation.predictions import Prediction, load_predictions, save_prediction
from ipd.evaluation.tables import fusion_name, model_name, read_metrics, write_metrics, write_tables
from ipd.timebase import analysis_times

NAMES = ("Cello", "Violin")
TIMES = analysis_times(4)
# Violin video, 6x4 frames: frames 0 and 1 positive with the key point (3, 0), frames 2, 3 negative
ANN = {
    "v1": VideoAnnotation(
        "v1",
        "Violin",
        tuple(
            FrameRecord(
                "v1", k, float(t), 6, 4, np.array([[3.0, 0.0]] if k < 2 else []).reshape(-1, 2)
            )
            for k, t in enumerate(TIMES)
        ),
    )
}
PEAK = np.array([[0.0, 1.0, 0.5], [0.0, 0.0, 0.0]], np.float32)  # upsampled arg-max (3, 0)


def _write_world(root):
    action = np.zeros((4, 2, 2, 3), np.float32)
    action[:2, 1] = PEAK  # positive frames: max 1 at the key point
    action[2:, 1] = 0.2 * PEAK  # negative frames: max 0.2
    obj = np.zeros((4, 2, 2, 3), np.float32)
    obj[:, 1] = [[0.5, 0.25, 0.25], [0.25, 0.25, 0.25]]  # peak in the top-left corner, (0, 0)
    sound = np.zeros((4, 2), np.float32)
    sound[:, 1] = [0.6, 0.4, 0.5, 0.1]
    for folder, kw in (
        ("sot", {"maps": action}),
        ("obj", {"maps": obj}),
        ("snd", {"scores": sound}),
    ):
        save_prediction(root / folder / "v1.npz", Prediction("v1", TIMES, NAMES, folder, **kw))


def test_chain_from_files_to_tables(tmp_path):
    _write_world(tmp_path)
    sot, obj, snd = (load_predictions(tmp_path / f, ["v1"]) for f in ("sot", "obj", "snd"))
    name = model_name("SOT", 0.5, 0.3)
    rows = evaluate_rows(
        ANN,
        {
            "Center": None,
            "Sound": snd,
            "Object": obj,
            "SxO": fuse_all(obj, snd),
            name: sot,
            fusion_name(name, with_object=True): fuse_all(sot, obj),
            fusion_name(name, with_sound=True): fuse_all(sot, snd),
        },
        NAMES,
    )
    write_metrics(tmp_path / "metrics.json", rows)
    metrics = read_metrics(tmp_path / "metrics.json")
    got = {k: (v["temporal_auc"], v["spatial_px"]) for k, v in metrics.items()}
    assert got == {
        "Center": (None, 2.0),  # centre (3, 2) to (3, 0)
        "Sound": (0.75, None),  # positives {.6, .4} vs negatives {.5, .1}: 3 of 4 pairs
        "Object": (0.5, 3.0),  # same max every frame: all tied; peak (0, 0) to (3, 0)
        "SxO": (0.75, 3.0),  # frame scores .5 x S keep the order of S
        "SOT0503": (1.0, 0.0),
        "SOT0503xO": (1.0, 0.0),  # A x O keeps the peak at (3, 0): row 0 = .25 x [0,.4,.8,.9,...]
        "SOT0503xS": (1.0, 0.0),  # frame scores [.6, .4, .1, .02]
    }
    assert metrics["Sound"]["per_instrument"]["Cello"] == {"temporal_auc": None, "spatial_px": None}
    markdown = write_tables(metrics, tmp_path / "tables")["markdown"].read_text()
    for line in (
        "| Center | NA | NA | NA | 2.0 |",
        "| Sound | NA | NA | 0.750 | NA |",
        "| Object | NA | NA | 0.500 | 3.0 |",
        "| SxO | NA | NA | 0.750 | 3.0 |",
        "| SOT0503 | 0.5 | 0.3 | 1.000 | 0.0 |",
        "| Instrument | SOT0503 | SOT0503xO | SOT0503xS |",
    ):
        assert line in markdown
