"""The ASGI app uvicorn serves: settings read once from the process environment."""

import os

from lunchkafe.app import create_app
from lunchkafe.settings import Settings

app = create_app(Settings.from_environ(os.environ))
