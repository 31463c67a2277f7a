"""WhatsApp Cloud API: the signed webhook, its parser, replies and media."""
