"""ImageNet boxes tool: VOC XML by WordNet id -> 256-px images with scaled instrument boxes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from data_tools import imagenet_boxes
from data_tools.common import load_labels
from ipd.errors import InputError
from ipd.evaluation.objects import read_voc_dir


def _imagenet_xml(wnid: str, n: int, size: tuple[int, int], objects: list[tuple]) -> str:
    """An annotation as ImageNet ships it (filename without extension, objects named by wnid)."""
    objs = "".join(
        f"<object><name>{name}</name><pose>Unspecified</pose><truncated>0</truncated>"
        f"<difficult>{d}</difficult><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin>"
        f"<xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>"
        for name, x0, y0, x1, y1, d in objects
    )
    return (
        f"<annotation><folder>{wnid}</folder><filename>{wnid}_{n}</filename>"
        "<source><database>ImageNet database</database></source>"
        f"<size><width>{size[0]}</width><height>{size[1]}</height><depth>3</depth></size>"
        f"<segmented>0</segmented>{objs}</annotation>"
    )


def _image(path: Path, width: int, height: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.zeros((height, width, 3), np.uint8)
    img[:, : width // 2] = (0, 0, 255)  # left half red: checks the resize keeps orientation
    cv2.imwrite(str(path), img)


@pytest.fixture
def world(tmp_path):
    ann, imgs = tmp_path / "Annotation", tmp_path / "images"
    (ann / "n04536866").mkdir(parents=True)
    (ann / "n02672831").mkdir(parents=True)
    # a 512x384 violin image with two boxes (one marked difficult), 1 box of another synset
    (ann / "n04536866" / "n04536866_7.xml").write_text(
        _imagenet_xml(
            "n04536866",
            7,
            (512, 384),
            [
                ("n04536866", 100, 50, 300, 350, 0),
                ("n04536866", 0, 0, 511, 383, 1),
                ("n02084071", 10, 10, 20, 20, 0),
            ],
        )  # fmt: skip
    )
    _image(imgs / "n04536866" / "n04536866_7.JPEG", 512, 384)
    # a portrait 300x600 accordion image
    (ann / "n02672831" / "n02672831_1.xml").write_text(
        _imagenet_xml("n02672831", 1, (300, 600), [("n02672831", 30, 60, 270, 540, 0)])
    )
    _image(imgs / "n02672831" / "n02672831_1.JPEG", 300, 600)
    # an annotation whose image is missing, and one with only a dog
    (ann / "n02672831" / "n02672831_2.xml").write_text(
        _imagenet_xml("n02672831", 2, (100, 100), [("n02672831", 1, 1, 50, 50, 0)])
    )
    (ann / "n02672831" / "n02084071_3.xml").write_text(
        _imagenet_xml("n02084071", 3, (100, 100), [("n02084071", 1, 1, 50, 50, 0)])
    )
    return tmp_path


def test_resize_and_scaled_boxes(world):
    out = world / "ds"
    summary = imagenet_boxes.convert(world / "Annotation", world / "images", out)
    boxes = out / "annotations" / "boxes"
    violin = imagenet_boxes.read_voc(boxes / "Annotations" / "n04536866_7.xml")
    assert (violin.filename, violin.width, violin.height) == ("n04536866_7.jpg", 256, 192)
    # 512 -> 256: every coordinate halves; the other synset is dropped
    assert [(b.name, b.xmin, b.ymin, b.xmax, b.ymax, b.difficult) for b in violin.boxes] == [
        ("Violin", 50, 25, 150, 175, 0),
        ("Violin", 0, 0, 256, 192, 1),  # 511 * 0.5 = 255.5 rounds to 256, clipped to the width
    ]
    img = cv2.imread(str(boxes / "JPEGImages" / "n04536866_7.jpg"))
    assert img.shape == (192, 256, 3)
    assert img[96, 10, 2] > 200 and img[96, 250, 2] < 50  # red stays on the left
    acc = imagenet_boxes.read_voc(boxes / "Annotations" / "n02672831_1.xml")
    assert (acc.width, acc.height) == (128, 256)  # portrait: the height becomes 256
    assert [(b.xmin, b.ymin, b.xmax, b.ymax) for b in acc.boxes] == [(13, 26, 115, 230)]
    assert summary.counts["images"] == 2 and summary.counts["boxes"] == 3
    assert (
        summary.counts["images with Violin"] == 1 and summary.counts["images with Accordion"] == 1
    )
    assert summary.counts["objects of other synsets dropped"] == 1
    assert summary.skipped == {"image not found or unreadable": 1, "no instrument box": 1}


def test_xml_size_differs_from_image(world):
    # the XML says 1024x768 but the stored image is 512x384: boxes are in XML pixels
    (world / "Annotation" / "n04536866" / "n04536866_7.xml").write_text(
        _imagenet_xml("n04536866", 7, (1024, 768), [("n04536866", 200, 100, 600, 700, 0)])
    )
    out = world / "ds"
    summary = imagenet_boxes.convert(world / "Annotation", world / "images", out)
    voc = imagenet_boxes.read_voc(out / "annotations" / "boxes" / "Annotations" / "n04536866_7.xml")
    assert [(b.xmin, b.ymin, b.xmax, b.ymax) for b in voc.boxes] == [(50, 25, 150, 175)]
    assert (
        summary.counts["images whose XML size differs from the image (boxes scaled from XML)"] == 1
    )


def test_label_named_objects_and_custom_map(world, tmp_path):
    ann = tmp_path / "own"
    ann.mkdir()
    (ann / "n04536866_7.xml").write_text(
        _imagenet_xml(
            "x", 7, (512, 384), [("Violin", 0, 0, 10, 10, 0), ("n04536866", 0, 0, 8, 8, 0)]
        )
    )
    wmap = tmp_path / "map.csv"
    wmap.write_text("wnid,name\nn04536866,Cello\n")
    imagenet_boxes.convert(ann, world / "images", tmp_path / "ds", wnid_map_path=wmap)
    voc = imagenet_boxes.read_voc(tmp_path / "ds/annotations/boxes/Annotations/n04536866_7.xml")
    assert [b.name for b in voc.boxes] == ["Violin", "Cello"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<annotation><size>", "not a readable VOC XML file"),
        ("<annotation></annotation>", "expected <annotation> with a <size>"),
        (
            "<annotation><size><width>a</width><height>2</height></size></annotation>",
            "<width> is 'a', not a number",
        ),
        (
            "<annotation><size><width>4</width><height>2</height></size>"
            "<object><name>n1</name></object></annotation>",
            "an <object> without <name> or <bndbox>",
        ),
        (
            "<annotation><size><width>4</width><height>2</height></size><object><name>n1</name>"
            "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax></xmax><ymax>2</ymax></bndbox></object>"
            "</annotation>",
            "<xmax> is '', not a number",
        ),
    ],
)
def test_malformed_xml_is_named(tmp_path, text, problem):
    bad = tmp_path / "bad.xml"
    bad.write_text(text)
    with pytest.raises(InputError, match=f"bad.xml: {problem}"):
        imagenet_boxes.read_voc(bad)


def test_default_map_covers_every_instrument():
    from data_tools.common import load_labels, read_name_map

    labels = load_labels(None)
    wnids = read_name_map(imagenet_boxes.DEFAULT_WNID_MAP, labels)
    assert set(wnids.values()) == set(labels.names)
    assert wnids["n04536866"] == "Violin" and wnids["n03110669"] == "Trumpet"


def test_output_reads_in_the_hit_rate_evaluation(world):
    out = world / "ds"
    imagenet_boxes.convert(world / "Annotation", world / "images", out)
    images = read_voc_dir(out / "annotations" / "boxes" / "Annotations", load_labels(None))
    assert [(i.image_id, i.width, i.height, len(i.boxes)) for i in images] == [
        ("n02672831_1", 128, 256, 1),
        ("n04536866_7", 256, 192, 2),
    ]
    assert all(
        (out / "annotations/boxes/JPEGImages" / f"{i.image_id}.jpg").is_file() for i in images
    )
