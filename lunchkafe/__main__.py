"""`python -m lunchkafe …` is the `lunchkafe` command, for when the script is not on PATH."""

from lunchkafe.cli import main

raise SystemExit(main())
