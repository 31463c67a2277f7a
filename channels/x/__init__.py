"""X (Twitter): mentions and direct messages polled through the X API v2, replies sent back."""
