"""SMS through SMS Gateway for Android (one Android phone, or its cloud or private server): the
signed webhook of received texts and replies through its send API."""

from __future__ import annotations

from channels.sms.channel import SmsChannel
from channels.sms.config import SmsConfig
from channels.spec import ChannelContext, ChannelSpec


def _build(context: ChannelContext) -> SmsChannel:
    return SmsChannel(context.config, context.http, context.clock)


SPEC = ChannelSpec(
    name="sms",
    config=SmsConfig,
    build=_build,
    labels={"id": "SMS", "en": "SMS"},
    webhooks=True,
    polls=False,
    reply_window=None,  # an SMS may be answered at any time
)
