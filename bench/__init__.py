"""``make bench``: ipd detect and extract against a reference-style pipeline.

See docs/performance.md.
"""
