"""The stage chain: file-based stages (train, teach, predict) that each read and write named files."""
