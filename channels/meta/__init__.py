"""Meta Graph: Facebook Pages and Instagram accounts, polled and by webhook, on one Graph client."""
