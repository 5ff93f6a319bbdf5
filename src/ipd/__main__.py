"""``python -m ipd``: the same as the ``ipd`` command (what ``torchrun -m ipd`` and Lightning's
DDP launcher, which starts the other ranks by re-running the command, need)."""

import sys

from ipd.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
