"""Object hit rate on PASCAL VOC boxes (Table 4.7 style), by hand."""

import numpy as np
import pytest

from ipd.errors import InputError
from ipd.evaluation.objects import Box, hit_rate, hit_rate_table, is_hit, read_voc, read_voc_dir
from ipd.evaluation.predictions import MapGrid
from ipd.labels import load_label_space

LABELS = load_label_space()
NAMES = ("Cello", "Violin")
# 2x3 maps upsampled to a 6x4 image: MAP peaks at (3, 0), CORNER at (5, 3) (see test_eval_action)
MAP = np.array([[0.0, 1.0, 0.5], [0.0, 0.0, 0.0]], dtype=np.float32)
CORNER = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)


def _voc(folder, image_id, objects, width=6, height=4):
    body = "".join(
        f"<object><name>{n}</name><bndbox><xmin>{a}</xmin><ymin>{b}</ymin>"
        f"<xmax>{c}</xmax><ymax>{d}</ymax></bndbox></object>"
        for n, a, b, c, d in objects
    )
    path = folder / f"{image_id}.xml"
    path.write_text(
        f"<annotation><filename>{image_id}.jpg</filename><size><width>{width}</width>"
        f"<height>{height}</height><depth>3</depth></size>{body}</annotation>"
    )
    return path


def test_read_voc(tmp_path):
    image = read_voc(_voc(tmp_path, "img1", [("violin", 2, 0, 4, 1)]), LABELS)
    assert (image.image_id, image.width, image.height) == ("img1", 6, 4)
    assert image.boxes == (Box("Violin", 2.0, 0.0, 4.0, 1.0),)


def test_hit_is_inside_the_box_bounds_included():
    assert is_hit(MAP, [Box("Violin", 2, 0, 4, 1)], 6, 4)  # (3, 0) inside
    assert is_hit(MAP, [Box("Violin", 3, 0, 3, 0)], 6, 4)  # on every bound
    assert not is_hit(MAP, [Box("Violin", 4, 0, 5, 3)], 6, 4)  # x = 3 left of the box
    assert is_hit(MAP, [Box("Violin", 4, 0, 5, 3), Box("Violin", 0, 0, 3, 0)], 6, 4)  # any box


def test_hit_places_the_cells_by_the_grid():
    # 8 x 8 map of a 256 x 256 input, stride 32: cell (7, 7) looks at pixel (224, 224). A box
    # around that pixel is hit when the cell is placed there, missed when the map is stretched
    # corner to corner (drawn at (255, 255)); a 512-px image of the same input scales both.
    heat = np.zeros((8, 8), np.float32)
    heat[7, 7] = 1.0
    box = [Box("Violin", 210, 210, 240, 240)]
    grid = MapGrid(32, 0, 256, 256)
    assert is_hit(heat, box, 256, 256, grid)
    assert not is_hit(heat, box, 256, 256)
    assert is_hit(heat, [Box("Violin", 440, 440, 460, 460)], 512, 512, grid)  # (448, 448)


def test_hit_rate_per_class_and_mean(tmp_path):
    _voc(tmp_path, "img1", [("Violin", 2, 0, 4, 1), ("Cello", 0, 0, 2, 2)])  # V hit, C miss
    _voc(tmp_path, "img2", [("Violin", 3, 0, 3, 0)])  # hit on the bounds
    _voc(tmp_path, "img3", [("Violin", 0, 2, 2, 3), ("Banjo", 0, 0, 5, 3)])  # miss; Banjo ignored
    images = read_voc_dir(tmp_path)
    maps = {
        "img1": np.stack([CORNER, MAP]),  # channel 0 Cello peaks at (5, 3): outside (0..2, 0..2)
        "img2": np.stack([CORNER, MAP]),
        "img3": np.stack([MAP, MAP]),
    }
    result = hit_rate(images, maps, NAMES)
    assert result.trials == {"Cello": 1, "Violin": 3}
    assert result.hits == {"Cello": 0, "Violin": 2}
    assert result.per_class == {"Cello": 0.0, "Violin": 2 / 3}
    assert result.mean == pytest.approx(1 / 3, abs=1e-12)
    table = hit_rate_table({"From scratch": result})
    assert "| Violin | **0.667** |" not in table  # one column: nothing to compare, no bold
    assert "| Violin | 0.667 |" in table and "| Average | 0.333 |" in table


def test_missing_maps_and_bad_xml_name_the_file(tmp_path):
    images = [read_voc(_voc(tmp_path, "img1", [("Violin", 2, 0, 4, 1)]))]
    with pytest.raises(InputError, match=r"img1\.xml: no object-model maps for image img1"):
        hit_rate(images, {}, NAMES)
    with pytest.raises(InputError, match=r"img1\.xml: maps of shape \(2, 3\)"):
        hit_rate(images, {"img1": MAP}, NAMES)
    bad = tmp_path / "bad.xml"
    bad.write_text("<annotation><size><width>6</width></size></annotation>")
    with pytest.raises(InputError, match=r"bad\.xml: missing <size/height>"):
        read_voc(bad)
    bad.write_text("<annotation")
    with pytest.raises(InputError, match=r"bad\.xml: not valid XML"):
        read_voc(bad)
    with pytest.raises(InputError, match=r"img9\.xml: object 'Banjo' is not in"):
        read_voc(_voc(tmp_path, "img9", [("Banjo", 0, 0, 1, 1)]), LABELS)
    with pytest.raises(InputError, match=r"img8\.xml: object #0 \(Violin\) has an empty box"):
        read_voc(_voc(tmp_path, "img8", [("Violin", 3, 0, 1, 1)]))
