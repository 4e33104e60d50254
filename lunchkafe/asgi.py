"""The ASGI app uvicorn serves: settings read once from the process environment.

Logging is configured here, on import, after uvicorn has set up its own loggers (it does so
before it imports the app, in every worker process), so its lines follow LOG_FORMAT too.
"""

import os

from foundation.logs import configure_logging
from foundation.settings import ConfigurationError, Settings
from lunchkafe.app import create_app

try:
    settings = Settings.from_environ(os.environ)
except ConfigurationError as exc:
    # One line naming the setting, not a traceback through uvicorn's importer.
    raise SystemExit(f"lunchkafe: configuration error: {exc}") from None
configure_logging(settings)
app = create_app(settings)
