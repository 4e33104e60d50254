"""What each mail says and its delivery: composed from the domains below, sent from the outbox."""
