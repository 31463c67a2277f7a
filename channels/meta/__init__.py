"""Meta Graph: Facebook Pages and Instagram accounts, polled and by webhook, sharing one Graph client."""
