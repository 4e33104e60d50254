"""The outbox, composing messages from templates, delivering them over SMTP."""
