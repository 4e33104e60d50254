"""The development guide: challenges, guide examples and the links from events to them."""
