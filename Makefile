# One-command set-up: `make demo` runs the main job, `make test` runs lint + the test suite.
# Both create .venv, install the package with its dependencies, and install the Debian
# packages the project needs (fluidsynth + General-MIDI soundfont to render audio, chromium to
# test the HTML report, ffmpeg to cut AudioSet clips in data_tools) when they are missing.
# `make study` runs the demo chain over 5 seeds (docs/evaluation.md); it also needs a second
# General-MIDI soundfont (MuseScore's) for its second test world.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SOUNDFONT := /usr/share/sounds/sf2/FluidR3_GM.sf2
SOUNDFONT2 := /usr/share/sounds/sf3/MuseScore_General_Lite.sf3
DEB_PACKAGES := fluidsynth fluid-soundfont-gm musescore-general-soundfont-small chromium ffmpeg
CLIP2FRAME ?= ../shared/reference-data/clip2frame
SEEDS ?= 0-4

.PHONY: all venv system-deps test test-fast lint demo study bench clean

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[synth,dev]'
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	@if command -v fluidsynth >/dev/null 2>&1 && [ -f $(SOUNDFONT) ] && [ -f $(SOUNDFONT2) ] \
		&& command -v chromium >/dev/null 2>&1 \
		&& command -v ffmpeg >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian packages: $(DEB_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES) >/dev/null; \
	elif command -v sudo >/dev/null 2>&1; then \
		echo "installing Debian packages with sudo: $(DEB_PACKAGES)"; \
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES) >/dev/null; \
	else \
		echo "error: need the Debian packages '$(DEB_PACKAGES)' (run as root: apt-get install $(DEB_PACKAGES))" >&2; exit 1; \
	fi

lint: venv
	$(BIN)/ruff check src tests data_tools bench
	$(BIN)/ruff format --check src tests data_tools bench

test: system-deps venv lint
	$(BIN)/python -m pytest -q --durations=10

test-fast: venv
	$(BIN)/python -m pytest -q -m "not slow"

demo: system-deps venv
	$(BIN)/ipd demo --out demo

# ipd detect and ipd extract against the reference-style pipeline on generated videos, in one
# run (~8 min on 2 cores); writes bench-results/bench.json and prints the tables
# (docs/performance.md). `python -m bench.table bench-results/bench.json --into README.md`
# rewrites the README's performance block from it.
bench: system-deps venv
	$(BIN)/python -m bench.run --out bench-results

# The demo chain over $(SEEDS), a second test world (world seed 7, MuseScore soundfont), the SOT
# threshold sweep and, when the authors' clip2frame release is at $(CLIP2FRAME), ST05 taught by
# their MagnaTagATune tagger. Then the README's results block is rewritten from study.json.
study: system-deps venv
	@mkdir -p study
	@if [ -d $(CLIP2FRAME) ]; then \
		$(BIN)/ipd tag --clip2frame-dir $(CLIP2FRAME) --export-teacher study/mtt_teacher.ckpt; \
		mtt="--mtt-teacher study/mtt_teacher.ckpt"; \
	else echo "no $(CLIP2FRAME): the study runs without the MagnaTagATune teacher"; mtt=""; fi; \
	$(BIN)/ipd study --seeds $(SEEDS) --out study --sweep both $$mtt \
		--test-world "seed7=--seed 7 --soundfont $(SOUNDFONT2)"
	$(BIN)/ipd results study/study.json --into README.md

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
