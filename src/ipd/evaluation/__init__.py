"""Evaluation: metrics, prediction I/O, tables."""
