"""Meta Graph: Facebook Pages and Instagram accounts, polled and by webhook, on one Graph client.
Two channels share this package, so it exports two specs."""

from __future__ import annotations

from channels.meta.facebook import FacebookChannel, FacebookConfig
from channels.meta.instagram import InstagramChannel, InstagramConfig
from channels.spec import META_REPLY_WINDOW, ChannelSpec, built_from

FACEBOOK = ChannelSpec(
    name="facebook",
    config=FacebookConfig,
    build=built_from(FacebookChannel),
    labels={"id": "Facebook", "en": "Facebook"},
    webhooks=True,  # when the app's webhook is configured; polling always
    polls=True,
    reply_window=META_REPLY_WINDOW,
)
INSTAGRAM = ChannelSpec(
    name="instagram",
    config=InstagramConfig,
    build=built_from(InstagramChannel),
    labels={"id": "Instagram", "en": "Instagram"},
    webhooks=True,
    polls=True,
    reply_window=META_REPLY_WINDOW,
)
