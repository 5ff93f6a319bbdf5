"""The HTML report: evaluation tables, claims and pictures in one folder that opens from disk.

``write_report(out_dir, metrics, videos, ...)`` writes ``out_dir/index.html`` and
``out_dir/media/...`` (see :mod:`ipd.report.html`); ``write_video_page`` writes one video's page
for ``ipd detect``.
"""
