"""Email: IMAP polling, MIME parsing with its budget and loop checks, SMTP replies."""

from __future__ import annotations

from channels.email.channel import EmailChannel
from channels.email.config import EmailConfig
from channels.spec import ChannelContext, ChannelSpec


def _build(context: ChannelContext) -> EmailChannel:
    # imapclient and aiosmtplib bring their own connections: no shared HTTP session.
    channel = EmailChannel(context.config, context.data_dir, context.clock)
    channel.health = context.health
    return channel


SPEC = ChannelSpec(
    name="email",
    config=EmailConfig,
    build=_build,
    labels={"id": "Surel", "en": "Email"},
    webhooks=False,
    polls=True,
)
