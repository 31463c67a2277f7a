"""Who sent a WhatsApp message: the sender's id, profile name and how to reach them."""

from __future__ import annotations

from typing import Any

from channels import payload


def sender_profile(contacts: Any, message: dict[str, Any]) -> tuple[str | None, str | None]:
    """The sender's profile name and how to reach them, from the change's `contacts[]`.

    The contact is the phone number (+wa_id) or, for a user who shares only a WhatsApp
    username (reached by a business-scoped user id), that username.
    """
    match = _sender_card(contacts, message) if isinstance(contacts, list) else None
    if match is None:
        return None, None
    profile = match.get("profile")
    if not isinstance(profile, dict):
        profile = {}
    wa_id = payload.opt_ident(match, "wa_id", payload.SENDER_LENGTH) or ""
    contact = f"+{wa_id}" if wa_id.isdigit() else payload.opt_text(profile, "username")
    return payload.opt_text(profile, "name"), contact


def sender_id_of(message: dict[str, Any]) -> str:
    """The phone number, or the business-scoped user id of a username-only sender."""
    found = payload.opt_ident(message, "from", payload.SENDER_LENGTH)
    return found or payload.opt_ident(message, "from_user_id", payload.SENDER_LENGTH) or ""


def _sender_card(contacts: list[Any], message: dict[str, Any]) -> dict[str, Any] | None:
    """The sender's entry in `contacts[]`, or the only entry when none names the sender."""
    cards = [c for c in contacts if isinstance(c, dict)]
    for card in cards:
        if _is_sender(card, message):
            return card
    return cards[0] if len(cards) == 1 else None


def _is_sender(contact: dict[str, Any], message: dict[str, Any]) -> bool:
    phone = message.get("from")
    if phone and contact.get("wa_id") == phone:
        return True
    user_id = message.get("from_user_id")
    return bool(user_id) and contact.get("user_id") == user_id
