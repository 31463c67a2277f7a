"""Every channel Kanal knows, by name: the one list runtime, settings, inbox and notifier read."""

from __future__ import annotations

from channels import email, meta, simulated, sms, telegram, whatsapp, x
from channels.spec import ChannelSpec

# In this order in config.toml's checks and the inbox's lists.
CHANNELS: dict[str, ChannelSpec] = {
    spec.name: spec
    for spec in (
        whatsapp.SPEC,
        email.SPEC,
        meta.INSTAGRAM,
        meta.FACEBOOK,
        x.SPEC,
        telegram.SPEC,
        sms.SPEC,
        simulated.SPEC,
    )
}


class UnknownChannel(KeyError):
    """A name no registered channel has."""


def channel_spec(name: str) -> ChannelSpec:
    try:
        return CHANNELS[name]
    except KeyError:
        raise UnknownChannel(f"no channel is registered as {name!r}") from None


def channel_label(name: str, language: str) -> str:
    """The channel's name as people read it; an unknown channel or language raises."""
    return channel_spec(name).label(language)
