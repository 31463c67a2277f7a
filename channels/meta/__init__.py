"""Meta Graph: Facebook Pages and Instagram accounts, polled and by webhook, on one Graph client.
Two channels share this package, so it exports two specs."""

from __future__ import annotations

from datetime import timedelta

from channels.meta.facebook import FacebookChannel, FacebookConfig
from channels.meta.instagram import InstagramChannel, InstagramConfig
from channels.spec import ChannelContext, ChannelSpec

# Meta's customer-service window for messages to a user who wrote to the Page or account.
REPLY_WINDOW = timedelta(hours=24)


def _facebook(context: ChannelContext) -> FacebookChannel:
    channel = FacebookChannel(context.config, context.data_dir, context.http, context.clock)
    channel.health = context.health
    return channel


def _instagram(context: ChannelContext) -> InstagramChannel:
    channel = InstagramChannel(context.config, context.data_dir, context.http, context.clock)
    channel.health = context.health
    return channel


FACEBOOK = ChannelSpec(
    name="facebook",
    config=FacebookConfig,
    build=_facebook,
    labels={"id": "Facebook", "en": "Facebook"},
    webhooks=True,  # when the app's webhook is configured; polling always
    polls=True,
    reply_window=REPLY_WINDOW,
)
INSTAGRAM = ChannelSpec(
    name="instagram",
    config=InstagramConfig,
    build=_instagram,
    labels={"id": "Instagram", "en": "Instagram"},
    webhooks=True,
    polls=True,
    reply_window=REPLY_WINDOW,
)
