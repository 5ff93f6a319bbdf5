"""The report's inline style sheet (no external CSS or fonts: the page opens from disk)."""

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 1250px; padding: 1em 2em; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2em; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
h3 { margin-top: 1.4em; }
nav { margin-bottom: 1em; }
nav a { color: #1f5fa8; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
thead th { background: #f0f3f7; text-align: center; }
tbody th { text-align: left; background: #fafafa; }
tr.average th, tr.average td { border-top: 2px solid #888; }
td.na { color: #999; }
.note { color: #555; font-size: 0.92em; max-width: 70em; }
ul.claims { list-style: none; padding-left: 0; }
ul.claims li { margin: 0.35em 0; }
ul.claims .badge { display: inline-block; min-width: 5.5em; font-weight: bold; }
ul.claims li.ok .badge { color: #1a7f37; }
ul.claims li.fail .badge { color: #c62828; }
ul.claims .detail { color: #555; margin-left: 0.6em; font-size: 0.92em; }
article { border-top: 1px solid #eee; padding-top: 0.5em; }
figure { margin: 0.6em 0 1em; }
figure img, figure video { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9em; max-width: 70em; }
.overlays { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
.overlays .note { flex-basis: 100%; }
figure.overlay { margin: 0; }
figure.overlay img, figure.overlay video { width: 384px; image-rendering: auto; }
footer { margin-top: 3em; color: #888; font-size: 0.85em; }
"""
