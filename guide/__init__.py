"""The development guide: challenges, guide examples and the links from events to them."""

# The search index follows every save, whoever saves (an after_flush listener).
from guide import search as _search  # noqa: F401
