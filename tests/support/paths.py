"""Where the tests of each channel, with their fakes and fixtures, live."""

from __future__ import annotations

from pathlib import Path

CHANNEL_TESTS = Path(__file__).resolve().parents[1] / "channels"


def channel_folders() -> list[Path]:
    """Every tests/channels/<name>/ folder; a new channel's folder needs no registration."""
    return sorted(path for path in CHANNEL_TESTS.iterdir() if path.is_dir())


def fixtures_of(platform: str) -> Path:
    """A platform's recorded payloads: tests/channels/<platform>/fixtures, or
    tests/channels/<channel>/fixtures/<platform> where platforms share a channel (Meta)."""
    own = CHANNEL_TESTS / platform / "fixtures"
    if own.is_dir():
        return own
    shared = sorted(CHANNEL_TESTS.glob(f"*/fixtures/{platform}"))
    if len(shared) != 1:
        raise LookupError(f"no single fixtures folder for {platform!r}: {shared}")
    return shared[0]
