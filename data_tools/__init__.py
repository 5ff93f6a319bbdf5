"""Dataset preparation: bring the released datasets into the project's on-disk formats.

One module per dataset, each runnable as ``python -m data_tools.<name> --help`` from the repository
root and printing a summary of what it made, found and skipped:

- ``yt8m_ipa``: the released YT8M-IPA ``.npy`` key points -> COCO-style ``keypoints_test.json``.
- ``yt8m_index``: downloaded YouTube-8M instrument videos + fold lists -> ``index.csv``.
- ``audioset``: AudioSet segment CSVs -> 10-s training clips (``segments.csv``, ``index.csv``).
- ``medleydb``: MedleyDB activation annotations -> frame labels on the 0.512-s grid.
- ``imagenet_boxes``: ImageNet PASCAL VOC boxes -> the object hit-rate evaluation set.
- ``download``: resumable ``yt-dlp`` downloads of the listed YouTube videos.

The formats they write are described in ``annotations/FORMATS.md``; how to run them on the real
datasets is in ``docs/real-data.md``.
"""
