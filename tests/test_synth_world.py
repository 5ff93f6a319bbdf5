"""SynthIPA internals: timeline, audio mask, coordinates, body plans, and the rendered frame
agreeing with its ground truth (key points on the drawn contacts, boxes around the instrument)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from ipd.errors import InputError
from ipd.labels import load_label_space
from ipd.synth import groundtruth as gt
from ipd.synth.audio import activity_mask, check_soundfont
from ipd.synth.config import PRESETS, WorldConfig
from ipd.synth.confounders import context_rates
from ipd.synth.plans import plan_class
from ipd.synth.timeline import Phrase, Timeline, sample_segments

REPO = Path(__file__).resolve().parents[1]
TINY = PRESETS["tiny"]
LABELS = load_label_space()
MAGENTA = np.array([255.0, 0.0, 255.0])


def test_plan_from_label_data():
    got = {inst.name: plan_class(inst).__name__ for inst in LABELS.instruments}
    assert got == {"Accordion": "Bellows", "Cello": "Bowed", "Drum": "DrumKit",
                   "Flute": "SideBlown", "Guitar": "Plucked", "Piano": "Keyboard",
                   "Saxophone": "Reed", "Trumpet": "Brass", "Violin": "Bowed"}  # fmt: skip


def test_segments_always_have_play_and_silence():
    rng = np.random.default_rng(3)
    for _ in range(200):
        segs = sample_segments(rng, 6.0, (1.8, 3.0), (1.5, 2.5))
        assert segs[0][0] == 0.0 and segs[-1][1] == 6.0
        assert all(a[1] == b[0] for a, b in zip(segs[:-1], segs[1:], strict=True))
        assert any(p and e - s >= 1.5 for s, e, p in segs)
        assert any(not p and e - s >= 1.0 for s, e, p in segs)


def test_playing_weight_is_one_while_sounding():
    tl = Timeline(10.0, 120.0, (Phrase(2.0, 5.0, ()),), ())
    assert [tl.playing_weight(t) for t in (2.0, 3.5, 4.999)] == [1.0, 1.0, 1.0]
    assert tl.playing_weight(1.0) == 0.0 and tl.playing_weight(6.0) == 0.0
    assert 0.0 < tl.playing_weight(1.75) < 1.0  # bringing the instrument up, before the sound
    assert tl.sounding(2.0) and not tl.sounding(5.0)


def test_activity_mask_hand_values():
    m = activity_mask([(0.10, 0.20)], 40, 100)  # 100 Hz: one sample = 10 ms
    assert m[9] == 0.0 and np.all(m[10:20] == 1.0)
    assert m[20:25].tolist() == pytest.approx([1.0, 0.75, 0.5, 0.25, 0.0])


def test_coordinates_to_256():
    w, h, s = gt.frame_256(320, 180)
    assert (w, h, s) == (256, 144, 0.8)
    corners = gt.to_256([[0.0, 0.0], [319.0, 179.0]], s)
    np.testing.assert_allclose(corners, [[-0.1, -0.1], [255.1, 143.1]], atol=1e-9)
    assert gt.box_to_256([10, 20, 29, 39], s, w, h) == [8, 16, 23, 31]
    assert gt.box_to_256([0, 0, 319, 179], s, w, h) == [0, 0, 255, 143]


def test_context_bias():
    off = context_rates(TINY.replace(context_bias=0.0), 4)
    assert off == {"audience": TINY.p_audience, "lights": TINY.p_lights, "shake": TINY.p_shake}
    full = [context_rates(TINY.replace(context_bias=1.0), g) for g in range(9)]
    values = {v for rates in full for v in rates.values()}
    assert values == {0.05, 0.9}  # every class either often or rarely has each context


# --- rendered frames vs ground truth ----------------------------------------------------------


def _scene(video_id: str, config: WorldConfig = TINY):
    from ipd.synth.scene import sample_scene, video_specs

    spec = next(s for s in video_specs(config, LABELS) if s.video_id == video_id)
    return sample_scene(config, LABELS, spec)


def _paint_contacts(scene) -> None:
    """Recolour everything drawn at a contact point (skin, lips, sticks' tips, bow hair,
    bellows) magenta, which appears nowhere else."""
    scene.player.skin = MAGENTA.copy()
    scene.player.lips = MAGENTA.copy()
    for tool in scene.plan.tools:
        tool.tip_rgb = MAGENTA.copy() if tool.tip_rgb is not None else None
        tool.hair_rgb = MAGENTA.copy() if tool.hair_rgb is not None else None
    if hasattr(scene.plan, "pleat"):
        scene.plan.pleat = (MAGENTA.copy(), MAGENTA.copy())


def _magenta(img: np.ndarray) -> np.ndarray:
    return (img[..., 0] > 170) & (img[..., 1] < 80) & (img[..., 2] > 170)


KEYPOINTS_PER_FRAME = {"accordion": 3, "cello": 2, "drum": 2, "flute": 3, "guitar": 2,
                       "piano": 2, "saxophone": 3, "trumpet": 2, "violin": 2}  # fmt: skip


@pytest.mark.parametrize("name", sorted(KEYPOINTS_PER_FRAME))
def test_keypoints_sit_on_drawn_contacts(name):
    from ipd.synth.motion import keypoints
    from ipd.synth.render import render_frame

    scene = _scene(f"{name}_test_000")
    _paint_contacts(scene)
    times = np.arange(0, TINY.duration_s, 0.512)
    positives = 0
    for t in times:
        kps = keypoints(scene, float(t))
        if not scene.timeline.sounding(float(t)):
            assert kps.shape == (0, 2)
            continue
        positives += 1
        assert len(kps) == KEYPOINTS_PER_FRAME[name]
        hit = _magenta(render_frame(scene, float(t)))
        for x, y in kps:
            xi, yi = int(round(x)), int(round(y))
            patch = hit[max(0, yi - 1) : yi + 2, max(0, xi - 1) : xi + 2]
            assert patch.any(), (name, float(t), (x, y))
    assert positives > 0
    # control: contacts cover a small part of the frame (the test is not satisfied everywhere)
    assert _magenta(render_frame(scene, float(times[0]))).mean() < 0.05


@pytest.mark.parametrize("video_id", ["drum_test_000", "accordion_test_000", "flute_test_000"])
def test_boxes_enclose_the_instrument(video_id):
    from ipd.synth.render import instrument_boxes, render_frame

    scene = _scene(video_id)
    for t in (0.512 * 3, 0.512 * 8):
        with_inst = render_frame(scene, t).astype(int)
        without = render_frame(scene, t, instruments=False).astype(int)
        changed = np.abs(with_inst - without).max(axis=2) > 16
        (name, box), *others = instrument_boxes(scene, t)
        assert name == scene.instrument.name
        for _, other in others:  # the silent second instrument has its own box
            changed[other[1] : other[3] + 1, other[0] : other[2] + 1] = False
        ys, xs = np.nonzero(changed)
        drawn = np.array([xs.min(), ys.min(), xs.max(), ys.max()])
        assert np.all(drawn[:2] >= box[:2] - 1) and np.all(drawn[2:] <= box[2:] + 1)
        area = (box[2] - box[0] + 1) * (box[3] - box[1] + 1)
        assert 0.1 < len(xs) / area <= 1.0  # the box is not much larger than the drawing


# --- bad input ----------------------------------------------------------------------------------


def test_missing_soundfont_names_the_file(tmp_path):
    from ipd.synth.builder import build_dataset

    bad = tmp_path / "nowhere" / "GM.sf2"
    with pytest.raises(InputError, match=str(bad)) as err:
        build_dataset(tmp_path / "out", TINY.replace(soundfont=str(bad)), progress=False)
    assert "\n" not in str(err.value) and "not found" in str(err.value)
    assert not (tmp_path / "out").exists()  # nothing is made before the inputs are checked


def test_not_a_soundfont(tmp_path):
    junk = tmp_path / "junk.sf2"
    junk.write_bytes(b"RIFF\0\0\0\0WAVEfmt ")
    with pytest.raises(InputError, match="not a SoundFont"):
        check_soundfont(junk)


def test_missing_fluidsynth(monkeypatch):
    if not Path(TINY.soundfont).is_file():
        pytest.skip("FluidR3 GM soundfont not installed")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(InputError, match="fluidsynth"):
        check_soundfont(TINY.soundfont)


def test_cli_bad_input_exit_codes(tmp_path, capsys):
    from ipd.cli.main import main

    bad = tmp_path / "missing.sf2"
    assert main(["synth", "--preset", "tiny", "--out", str(tmp_path / "o"),
                 "--soundfont", str(bad)]) == 2  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(bad) in err
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main(["synth", "--preset", "tiny", "--out", str(afile)]) == 2
    assert f"{afile}: exists and is not a folder" in capsys.readouterr().err
    assert main(["synth", "--preset", "tiny", "--out", str(tmp_path / "o"), "--size",
                 "161x90"]) == 2  # fmt: skip
    assert "161x90" in capsys.readouterr().err


def test_cli_options_and_docs_cover_every_knob(capsys):
    from ipd.cli.main import main
    from ipd.cli.synth import build_config_flags

    with pytest.raises(SystemExit):
        main(["synth", "--help"])
    text = capsys.readouterr().out
    assert "tiny" in text and "demo" in text
    docs = (REPO / "docs" / "synthipa.md").read_text()
    for f in dataclasses.fields(WorldConfig):
        flag = build_config_flags().get(f.name, "--size")
        assert flag in text, flag
        assert f"`{f.name}`" in docs, f"docs/synthipa.md does not document {f.name}"


def test_cli_overrides_the_preset():
    import argparse

    from ipd.cli import synth

    parser = argparse.ArgumentParser()
    synth.add_parser(parser.add_subparsers())
    args = parser.parse_args(["synth", "--out", "x", "--preset", "tiny", "--size", "96x64",
                              "--videos-per-class", "2", "0", "1", "--phrase-s", "1.5", "2",
                              "--p-shake", "0.9", "--instruments", "Violin"])  # fmt: skip
    config = synth.config_from_args(args)
    assert (config.width, config.height, config.videos_per_class) == (96, 64, (2, 0, 1))
    assert (config.phrase_s, config.p_shake, config.instruments) == ((1.5, 2.0), 0.9, ("Violin",))
    assert config.duration_s == TINY.duration_s  # untouched knobs keep the preset's value
