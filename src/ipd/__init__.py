"""ipd: weakly-supervised instrument-playing action detection in music videos."""

__version__ = "0.1.0"
