"""LightningModules: each owns its loss, metrics, optimiser and logging; the net is handed in."""
