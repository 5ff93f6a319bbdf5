"""Feature extraction: audio (multi-scale log-mel), RGB frames, optical-flow stacks, the cache.

Entry points (docs/features.md): :class:`ipd.features.params.ExtractParams`,
:func:`ipd.features.extract.extract_video`, :func:`ipd.features.batch.extract_many`,
:func:`ipd.features.reader.open_features`, :func:`ipd.features.cache.list_cached`.
Modules are imported explicitly (no re-exports here) so that importing one stays cheap.
"""
