"""The channel registry is the one place a channel is named: settings' tables, the inbox's and the
notifier's labels and the reply windows all come from it, and a missing label fails loudly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from channels.registry import CHANNELS, UnknownChannel, channel_label
from channels.spec import LANGUAGES, ChannelSpec
from channels.whatsapp import SPEC as WHATSAPP
from inbox.i18n import translate
from notifier.render import labels
from settings import ChannelsConfig, Settings
from triage.messages import LOCALES


def test_the_registry_speaks_every_language_people_read() -> None:
    assert set(LANGUAGES) == set(LOCALES)
    for name, spec in CHANNELS.items():
        assert spec.name == name
        for language in LANGUAGES:
            assert spec.label(language).strip(), (name, language)


def test_settings_have_one_table_per_registered_channel() -> None:
    assert list(ChannelsConfig.model_fields) == list(CHANNELS)
    settings = Settings()
    for name, spec in CHANNELS.items():
        assert isinstance(getattr(settings.channels, name), spec.config)
        assert not getattr(settings.channels, name).enabled


def test_inbox_and_notifier_show_the_registry_labels() -> None:
    assert translate("channel.x", "id") == "X (Twitter)"
    assert translate("channel.whatsapp", "en") == "WhatsApp"
    imported = {"id": "SP4N-LAPOR! (impor)", "en": "SP4N-LAPOR! (imported)"}
    for locale in LOCALES:
        registered = {n: s.label(locale) for n, s in CHANNELS.items()}
        # Plus tickets imported from SP4N-LAPOR!, no live channel: named by the text catalog.
        assert labels(locale)["channel"] == {"lapor": imported[locale], **registered}


def test_reply_windows_are_the_platforms() -> None:
    windows = {name: spec.reply_window for name, spec in CHANNELS.items()}
    day = timedelta(hours=24)
    assert windows == {
        "whatsapp": day,
        "email": None,
        "instagram": day,
        "facebook": day,
        "x": None,
        "telegram": None,
        "sms": None,
        "simulated": None,
    }


def test_an_unknown_channel_fails_loudly_rather_than_showing_its_key() -> None:
    with pytest.raises(UnknownChannel, match="'line'"):
        translate("channel.line", "id")
    with pytest.raises(UnknownChannel):
        channel_label("line", "en")
    with pytest.raises(KeyError, match="'fr'"):
        WHATSAPP.label("fr")


def test_a_channel_without_a_label_in_every_language_cannot_be_declared() -> None:
    with pytest.raises(ValueError, match="'line' has no label in en"):
        ChannelSpec(
            name="line",
            config=WHATSAPP.config,
            build=WHATSAPP.build,
            labels={"id": "LINE"},
            webhooks=True,
            polls=False,
        )
