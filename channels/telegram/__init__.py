"""Telegram: the bot's webhook or long polling, its parser, replies and media."""
