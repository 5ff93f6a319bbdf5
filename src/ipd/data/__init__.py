"""Datasets, datamodules and training targets."""
