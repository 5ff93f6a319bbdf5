"""Errors a user can fix. The CLI prints their message as one line and exits non-zero."""


class InputError(ValueError):
    """Bad input (missing file, not a video, no frames, ...). The message names the file."""
