"""Email: IMAP polling, MIME parsing with its budget and loop checks, SMTP replies."""

from __future__ import annotations

from channels.email.channel import EmailChannel
from channels.email.config import EmailConfig
from channels.spec import ChannelSpec, built_from

SPEC = ChannelSpec(
    name="email",
    config=EmailConfig,
    build=built_from(EmailChannel, shared_http=False),  # imapclient and aiosmtplib connect alone
    labels={"id": "Surel", "en": "Email"},
    webhooks=False,
    polls=True,
)
