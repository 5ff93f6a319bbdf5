"""Feature extraction: audio (multi-scale log-mel), RGB frames, optical-flow stacks, the cache."""
