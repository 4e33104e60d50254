"""Message catalogues: Swedish message ids, English in en/LC_MESSAGES/messages.po."""
