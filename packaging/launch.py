"""Entry point of the frozen build (PyInstaller): the ``almdesk`` command — the GUI without a command,
the headless CLI with one (``almdesk --help``)."""

import sys

from almdesk.entry import main

if __name__ == "__main__":
    sys.exit(main())
