"""Series and Event: models, publishing, rescheduling, cancelling, pages and calendars."""
