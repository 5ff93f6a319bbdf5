"""``ipd detect``: the trained chain on any video (docs/detect.md).

Data flow: :mod:`.models` (load A, O, S from our checkpoints or the authors' weights) ->
:mod:`.run` (features into the cache, inference, fusion) with :mod:`.infer` (bounded-memory
inference) -> :mod:`.outputs` (scores CSV/JSON, peaks) and :mod:`.media` (overlay video, report
page). Modules are imported explicitly (no re-exports here) so that importing one stays cheap.
"""
