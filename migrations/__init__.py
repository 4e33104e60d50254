"""The Alembic migrations. A package, so that the wheel carries them and `lunchkafe migrate`
finds them wherever it is installed (`lunchkafe/migrate.py` points Alembic here)."""

from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent
