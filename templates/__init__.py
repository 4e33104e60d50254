"""The page and mail templates and the static files. A package, so that the wheel carries them
and the code finds them beside itself wherever it is installed, not beside a checkout."""

from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent
