"""The stage chain: file-based stages (train, teach, predict) reading and writing named files."""
