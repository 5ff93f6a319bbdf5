"""Evaluation (SPEC 6-7, dissertation §4.3): fusion, metrics, prediction I/O and tables.

The data flow, one module per step::

    keypoints.load_keypoints(json)          -> {video_id: VideoAnnotation}
    predictions.load_predictions(dir, ids)  -> {video_id: Prediction}      (one .npz per video)
    fusion.fuse_all(action, object, sound)  -> {video_id: Prediction}      (A x O x S, S x O)
    action.evaluate(annotations, preds, names) / action.evaluate_center(...) -> RowResult
    sound.sound_frame_auc(...)  (Table 4.6)     objects.hit_rate(...)  (Table 4.7)
    tables.write_metrics(path, {row_name: RowResult}); tables.write_tables(metrics, dir)

Choices where the paper is silent or ambiguous, and what the authors' released scripts
(``scripts/YouTube8M/test.action.{temporal,spatial}.py`` and neighbours) do:

- Temporal frame score: the spatial max of the raw (not upsampled) map, as the authors.
- AUC: scikit-learn ``roc_auc_score`` (ties count one half). A video whose annotated frames are
  all positive or all negative has no AUC; it is skipped and listed in ``skipped_videos`` (the
  authors skip it through the exception sklearn raises). Averaging: per video, per instrument,
  then over instruments (their "micro" file is this mean of the class-wise means).
- Spatial: bilinear upsampling with each map cell placed where the network looks (the
  prediction's ``MapGrid``: cell ``(i, j)`` of the VGG FCN at input pixel ``(32 j, 32 i)``). The
  authors stretched the maps corner to corner (``nn.UpsamplingBilinear2d``, i.e.
  ``align_corners=True``), but on maps computed from the full-resolution video, where that moves
  a cell by at most ~12 px of the 256-px frame; on our 256-px inputs it would move it by up to
  31 px, so it is only an option (``corners=True``, ``ipd evaluate --corners``), and what
  predictions without a grid get. Arg-max ties go to the first
  pixel in row-major order (``np.argmax``); the arg-max pixel index ``(column, row)`` is compared
  with key points ``(x, y)`` in the same pixel grid, no half-pixel shift. Mean per video over its
  positive frames, per instrument over videos, then over instruments. The authors' overall spatial
  file is the mean over all frames, but the dissertation's Tables 4.8/4.10 "Average" equals the
  mean over instruments (e.g. VT: the nine values of Table 4.10 average to 33.9), which is what
  this code reports. A video without positive frames is skipped (the authors would get NaN).
- An instrument without any scored video is null in ``per_instrument`` and left out of the mean.
- Center baseline: ``(width // 2, height // 2)``, the authors' ``shape // 2``.
- Fusion: point-wise products at the map resolution, S broadcast over space, as the authors'
  ``pred * inst * so[:, :, None, None]``; S x O is the same product without the action model.
- Frames are matched by timestamp (nearest, strictly within half an analysis period, 0.256 s);
  the authors matched by position inside fixed 5-s fragments.
- Object hit rate: inside the box with bounds included, per (image, boxed instrument). The authors'
  script compares ``(ymin, xmin) <= (y, x) <= (ymax, xmax)`` as Python tuples, which is a
  lexicographic test (a row strictly inside the box is a hit whatever the column); this code
  tests both axes.
- Sound AUC: one AUC per class over the frames of all videos pooled (Table 4.6: "each frame as an
  instance"); a class with one label value has no AUC and is left out of the mean.

The ``metrics.json`` schema is in :mod:`ipd.evaluation.tables`.
"""
