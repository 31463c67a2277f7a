"""A reply's delivery as operators read it: its state, and why it failed, in words."""

from __future__ import annotations

from inbox.i18n import translate

# A platform's or the outbox's error code -> the catalog's explanation (delivery_error.*).
# Codes not listed are shown by number after a general sentence.
_EXPLAINED = {
    "disabled": "account",  # the channel is not enabled in config.toml
    "foreign_account": "account",  # the report came to an account this Kanal does not serve
    "131047": "outside_window",  # WhatsApp: more than 24 hours since the reporter wrote
    "outside_window": "outside_window",  # Facebook and Instagram's messaging window
    "429": "rate_limited",
    "401": "access",
    "403": "access",
    "190": "access",  # Graph: the access token expired or was revoked
    "too_long": "too_long",
    "not_a_number": "not_a_number",
}


def error_words(code: str, channel: str, locale: str) -> str:
    """ "akun WhatsApp belum diatur" for `foreign_account` on WhatsApp."""
    name = translate(f"channel.{channel}", locale)
    if code.startswith("smtp-"):
        return translate("delivery_error.mail_server", locale, channel=name)
    explained = _EXPLAINED.get(code)
    if explained is None:
        return translate("delivery_error.other", locale, channel=name, code=code)
    return translate(f"delivery_error.{explained}", locale, channel=name)


def delivery_words(state: str, error_code: str | None, channel: str, locale: str) -> str:
    """ "Gagal: akun WhatsApp belum diatur", "diterima", "menunggu dikirim ulang: ..."."""
    words = translate(f"delivery.{state}", locale)
    if not error_code:
        return words
    reason = error_words(error_code, channel, locale)
    if state == "failed":
        return translate("delivery.failed_because", locale, reason=reason)
    return translate("delivery.retrying", locale, state=words, reason=reason)
