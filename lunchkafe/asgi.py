"""The ASGI app uvicorn serves: settings read once from the process environment."""

import os

from foundation.settings import Settings
from lunchkafe.app import create_app

app = create_app(Settings.from_environ(os.environ))
