# One-command set-up: `make demo` runs the main job, `make test` runs lint + the test suite.
# Both create .venv, install the package with its dependencies, and install the Debian
# packages the project needs (fluidsynth + General-MIDI soundfont to render audio, chromium to
# test the HTML report, ffmpeg to cut AudioSet clips in data_tools) when they are missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SOUNDFONT := /usr/share/sounds/sf2/FluidR3_GM.sf2
DEB_PACKAGES := fluidsynth fluid-soundfont-gm chromium ffmpeg

.PHONY: all venv system-deps test test-fast lint demo clean

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	@if command -v fluidsynth >/dev/null 2>&1 && [ -f $(SOUNDFONT) ] && command -v chromium >/dev/null 2>&1 \
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
	$(BIN)/ruff check src tests data_tools
	$(BIN)/ruff format --check src tests data_tools

test: system-deps venv lint
	$(BIN)/python -m pytest -q --durations=10

test-fast: venv
	$(BIN)/python -m pytest -q -m "not slow"

demo: system-deps venv
	$(BIN)/ipd demo --out demo

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
