"""The HTML report: every picture on disk, the tables equal metrics.json, and it loads in Chromium.

One small report (two videos of 6 frames, 48x64 px, random maps) is built per module.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from ipd.evaluation.keypoints import FrameRecord, VideoAnnotation
from ipd.evaluation.predictions import Prediction
from ipd.evaluation.tables import format_auc, format_px, read_metrics, write_metrics
from ipd.report.html import ReportVideo, pick_overlay_model, write_report, write_video_page
from ipd.report.tables import metrics_tables_html, order_rows

LABELS = ("Cello", "Flute", "Violin")
CHROMIUM = Path("/usr/bin/chromium")


def _row(auc, px, per):
    return {
        "temporal_auc": auc,
        "spatial_px": px,
        "per_instrument": {n: {"temporal_auc": a, "spatial_px": p} for n, (a, p) in per.items()},
        "skipped_videos": {"temporal": [], "spatial": []},
    }


# Rows in a scrambled order with names outside the fixed list (ST03) and a null instrument.
METRICS = {
    "SOT0503xOxS": _row(0.9234, 20.04, {"Cello": (0.95, 18.0), "Violin": (0.8968, 22.08)}),
    "VT": _row(0.7, 33.95, {"Cello": (0.7, 30.0), "Violin": (0.7, 37.9)}),
    "Center": _row(None, 37.25, {"Cello": (None, 36.0), "Violin": (None, 38.5)}),
    "SOT0503": _row(0.85, 25.0, {"Cello": (0.9, 24.0), "Violin": (0.8, 26.0)}),
    "ST05": _row(0.8, 33.0, {"Cello": (0.85, 32.0), "Violin": (0.75, 34.0)}),
    "ST03": _row(0.79, 33.5, {"Cello": (0.8, 33.0), "Violin": (None, None)}),
    "Sound": _row(0.88, None, {"Cello": (0.9, None), "Violin": (0.86, None)}),
    "OT03": _row(0.75, 28.0, {"Cello": (0.76, 27.5), "Violin": (0.74, 28.5)}),
    "SOT0503xO": _row(0.86, 22.5, {"Cello": (0.9, 21.0), "Violin": (0.82, 24.0)}),
}


def _video(vid: str, instrument: str, rng) -> ReportVideo:
    t = 6
    times = np.arange(t) * 0.512
    frames = rng.integers(0, 255, (t, 48, 64, 3), dtype=np.uint8)

    def pred(name, maps=True):
        if maps:
            return Prediction(vid, times, LABELS, name, maps=rng.random((t, 3, 4, 4), np.float32))
        return Prediction(vid, times, LABELS, name, scores=rng.random((t, 3), np.float32))

    preds = {name: pred(name) for name in ("Object", "VT", "ST05", "OT03", "SOT0503")}
    preds["Sound"] = pred("Sound", maps=False)
    preds["SOT0503xOxS"] = pred("SOT0503xOxS")
    # Annotated frames 1..4 (key points in a 96x128 frame: scaled by 1/2 onto the 48x64 frames).
    records = tuple(
        FrameRecord(
            vid, k, times[k], 128, 96, np.array([[40.0, 30.0]]) if k % 2 else np.zeros((0, 2))
        )
        for k in range(1, 5)
    )
    annotation = VideoAnnotation(vid, instrument, records)
    return ReportVideo(vid, instrument, frames, times, preds, annotation, times > 1.0)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("report")
    metrics = read_metrics(write_metrics(out / "metrics_in.json", METRICS))
    rng = np.random.default_rng(0)
    videos = [_video("vid/a", "Cello", rng), _video("vid b", "Violin", rng)]
    page = write_report(
        out / "report", metrics, videos, title="Test <report>",
        extra_tables={
            "Object hit rate": {"Cello": 0.5, "Violin": None},
            "Sound AUC": {"Cello": {"AUC": 0.91234, "frames": 12}},
        },
        claims=[("ST beats VT in time", True, "0.800 > 0.700"), ("OT beats VT", False, "no")],
        webm=True,
    )  # fmt: skip
    return page, metrics


class _Page(HTMLParser):
    """Media sources and table cells (``data-table`` -> {(data-row, data-col): text})."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[tuple[str, str]] = []
        self.tables: dict[str, dict[tuple[str, str], str]] = {}
        self.claims: list[str] = []
        self._table: str | None = None
        self._cell: tuple[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("img", "source", "video") and "src" in attrs:
            self.sources.append((tag, attrs["src"]))
        if tag == "table":
            self._table = attrs.get("data-table")
            self.tables[self._table] = {}
        if tag == "td" and "data-row" in attrs:
            self._cell = (attrs["data-row"], attrs["data-col"])
            self.tables[self._table][self._cell] = ""
        if tag == "li" and "data-holds" in attrs:
            self.claims.append(attrs["data-holds"])

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self.tables[self._table][self._cell] += data


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _expected_cells(metrics: dict) -> dict[str, dict[tuple[str, str], str]]:
    """What each metrics table must show: the strings of tables.md."""
    overall = {}
    for name, row in metrics.items():
        overall[(name, "temporal_auc")] = format_auc(row["temporal_auc"])
        overall[(name, "spatial_px")] = format_px(row["spatial_px"])
    return {"overall": overall}


def test_every_picture_exists_and_the_tables_equal_metrics(report):
    page, metrics = report
    parsed = _parse(page.read_text())
    srcs = [src for _, src in parsed.sources]
    assert len(srcs) == 2 * 2 + 2 * 3  # per video: timeline, side by side; gif, mp4, webm
    for src in srcs:
        assert not re.match(r"^[a-z]+:|^/", src), src  # relative links only
        assert (page.parent / src).is_file(), src
    assert parsed.tables["overall"] == _expected_cells(metrics)["overall"]
    for key, metric, fmt in (
        ("temporal_per_instrument", "temporal_auc", format_auc),
        ("spatial_per_instrument", "spatial_px", format_px),
        ("fusion_temporal", "temporal_auc", format_auc),
        ("fusion_spatial", "spatial_px", format_px),
    ):
        cells = parsed.tables[key]
        assert cells, key
        for (row, col), text in cells.items():
            value = metrics[col][metric] if row == "Average" else (
                metrics[col]["per_instrument"].get(row, {}).get(metric)
            )  # fmt: skip
            assert text == fmt(value), (key, row, col)
    assert parsed.tables["Object_hit_rate"] == {
        ("Cello", "Value"): "0.500",
        ("Violin", "Value"): "NA",
    }
    assert parsed.tables["Sound_AUC"] == {("Cello", "AUC"): "0.912", ("Cello", "frames"): "12"}
    assert parsed.claims == ["true", "false"]
    assert json.loads((page.parent / "metrics.json").read_text()) == metrics
    assert "<title>Test &lt;report&gt;</title>" in page.read_text()
    assert "http" not in page.read_text()  # nothing from elsewhere


def test_rows_follow_the_papers_order(report):
    page, _ = report
    text = page.read_text()
    overall = text[text.index('data-table="overall"') :].split("</table>")[0]
    names = re.findall(r'data-row="([^"]+)" data-col="temporal_auc"', overall)
    expected = ["Center", "Sound", "VT", "ST03", "ST05", "OT03", "SOT0503", "SOT0503xO"]
    assert names == expected + ["SOT0503xOxS"]


def test_order_rows():
    names = ["SOT0707", "SOT0503xOxS", "X1", "ST07", "SOT0503xO", "Center", "OT03", "SxO", "ST03"]
    assert order_rows(names) == [
        "Center", "SxO", "ST03", "ST07", "OT03", "SOT0707", "SOT0503xO", "SOT0503xOxS", "X1",
    ]  # fmt: skip


def test_overlay_model_is_the_best_spatial_row_with_maps():
    rng = np.random.default_rng(1)
    videos = [_video("v", "Cello", rng)]
    assert pick_overlay_model(METRICS, videos) == "SOT0503xOxS"  # 20.04 px, the smallest
    without = {k: v for k, v in METRICS.items() if k != "SOT0503xOxS"}
    # SOT0503xO (22.5 px) has no maps in the videos: the next best with maps is SOT0503 (25 px).
    assert pick_overlay_model(without, videos) == "SOT0503"
    assert pick_overlay_model({}, videos, ("VT", "OT03")) == "OT03"


def test_video_page_peaks(tmp_path):
    times = np.arange(3) * 0.512
    maps = np.zeros((3, 2, 4, 4), np.float32)
    maps[2, 1, 3, 0] = 0.9  # Flute peaks at t = 1.024 s, map pixel (row 3, col 0)
    maps[0, 0, 0, 3] = 0.4  # Cello at t = 0, (row 0, col 3)
    pred = Prediction("clip", times, ("Cello", "Flute"), "x", maps=maps)
    sound = Prediction("clip", times, ("Cello", "Flute"), "s", scores=np.array(
        [[0.1, 0.2], [0.7, 0.3], [0.2, 0.25]], np.float32))  # fmt: skip
    frames = np.zeros((3, 31, 61, 3), np.uint8)
    video = ReportVideo("clip", "Flute", frames, times, {"Sound": sound, "AxOxS": pred})
    page = write_video_page(tmp_path / "p", video, title="clip", labels=["Flute", "Cello"])
    parsed = _parse(page.read_text())
    for _, src in parsed.sources:
        assert (page.parent / src).is_file()
    rows = re.findall(r"<tr>((?:<td>[^<]*</td>)+)</tr>", page.read_text())
    cells = [re.findall(r"<td>([^<]*)</td>", r) for r in rows]
    # A 4x4 map upsampled (align_corners) to 31x61: col c -> x = 20c, row r -> y = 10r.
    assert cells == [
        ["Flute", "Sound", "0.300", "0.51", "NA"],
        ["Flute", "AxOxS", "0.900", "1.02", "(0, 30)"],
        ["Cello", "Sound", "0.700", "0.51", "NA"],
        ["Cello", "AxOxS", "0.400", "0.00", "(60, 0)"],
    ]


_CHECK = """<script>
window.addEventListener('load', () => {
  const videos = [...document.querySelectorAll('video')];
  const report = () => {
    const imgs = [...document.images].map(i => [i.getAttribute('src'), i.naturalWidth]);
    const vids = videos.map(v => [v.currentSrc, v.readyState, v.error ? v.error.code : 0,
                                  v.videoWidth]);
    document.body.setAttribute('data-check', JSON.stringify({imgs, vids}));
  };
  videos.forEach(v => { v.addEventListener('loadeddata', report);
                        v.addEventListener('error', report, true); });
  report();
});
</script>"""


@pytest.mark.skipif(
    not CHROMIUM.is_file(), reason="chromium not installed (apt-get install chromium)"
)
def test_report_loads_in_headless_chromium(report, tmp_path):
    page, metrics = report
    copy = tmp_path / "report"
    shutil.copytree(page.parent, copy)
    index = copy / "index.html"
    index.write_text(index.read_text().replace("</body>", _CHECK + "</body>"))
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
        "--allow-file-access-from-files", "--virtual-time-budget=5000", "--dump-dom",
        index.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'data-check="([^"]*)"', done.stdout)
    assert found, "the check script did not run"
    check = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert len(check["imgs"]) == 6 and len(check["vids"]) == 2
    assert all(width > 0 for _, width in check["imgs"]), check["imgs"]
    for src, ready, error, width in check["vids"]:
        assert error == 0 and ready >= 2, (src, ready, error)  # a frame was decoded
        assert src.endswith(".mp4") and width == 384  # H.264 plays: the first <source> is used
    assert _parse(done.stdout).tables["overall"] == _expected_cells(metrics)["overall"]


def test_the_overall_table_shows_each_numbers_interval_over_test_videos():
    metrics = {
        "VT": {**_row(0.7, 33.95, {}), "ci95": {"temporal_auc": [0.65, 0.75], "spatial_px": None}},
        "Center": _row(None, 37.25, {}),
    }
    (_key, _title, html), *_ = metrics_tables_html(metrics)
    assert "<th>95 % CI</th>" in html
    assert '<td class="ci">[0.650, 0.750]</td>' in html
    parsed = _parse(html)  # the value cells are unchanged: the intervals have no data-col
    assert parsed.tables["overall"][("VT", "temporal_auc")] == "0.700"
    no_intervals = metrics_tables_html({"VT": _row(0.7, 33.95, {})})[0][2]
    assert "95 % CI" not in no_intervals


def test_the_readme_picture_is_one_videos_side_by_side_made_small(tmp_path):
    from PIL import Image

    from ipd.errors import InputError
    from ipd.report.readme import readme_picture

    for i, name in enumerate(("000_cello_test_000", "001_flute_test_000")):
        (tmp_path / "report" / "media" / name).mkdir(parents=True)
        colour = (200, 30 * i, 0)
        Image.new("RGB", (1920, 1080), colour).save(tmp_path / "report" / "media" / name /
                                                    "side_by_side.png")  # fmt: skip
    out = readme_picture(tmp_path / "report", tmp_path / "pic.png", video="flute", width=480)
    with Image.open(out) as image:
        assert image.size == (480, 270) and image.mode == "P"
        assert image.convert("RGB").getpixel((10, 10)) == (200, 30, 0)
    first = readme_picture(tmp_path / "report", tmp_path / "first.png", width=96)
    with Image.open(first) as image:
        assert image.convert("RGB").getpixel((5, 5)) == (200, 0, 0) and image.size == (96, 54)
    with pytest.raises(InputError, match="no video matching 'violin'"):
        readme_picture(tmp_path / "report", tmp_path / "x.png", video="violin")
    with pytest.raises(InputError, match="no side-by-side figures"):
        readme_picture(tmp_path, tmp_path / "x.png")
