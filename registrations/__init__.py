"""Registration: booking, waitlist, cancellation, manage tokens and pages."""
