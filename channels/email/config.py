"""The `[channels.email]` table: the mailbox to poll, the SMTP server for replies, the limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr

from channels.base import ChannelConfig, Duration
from channels.email.budget import DEFAULT_MAX_BYTES


class EmailConfig(ChannelConfig):
    imap_host: str = ""
    imap_port: int = 993
    imap_tls: Literal["ssl", "starttls", "none"] = "ssl"
    username: str = ""
    password: SecretStr = SecretStr("")
    folder: str = "INBOX"
    poll_interval: Duration = timedelta(seconds=30)
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_tls: Literal["ssl", "starttls", "none"] = "starttls"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    from_address: str = ""
    from_name: str = "Kanal"
    mark_seen: bool = True  # flag \Seen once stored, so people reading the mailbox see progress
    batch_size: int = 50  # messages fetched and committed per intake call
    imap_timeout: Duration = timedelta(seconds=60)
    smtp_timeout: Duration = timedelta(seconds=60)
    retry_initial: Duration = timedelta(seconds=2)  # first back-off after a failed poll
    retry_max: Duration = timedelta(minutes=5)
    # A larger mail is fetched as headers only and kept with the reason (the rest stays on the
    # server); depth and parts bound the CPU one mail can cost.
    max_message_size: int = Field(default=DEFAULT_MAX_BYTES, gt=0)  # bytes, 25 MB
    max_mime_depth: int = Field(default=20, gt=0)
    max_mime_parts: int = Field(default=200, gt=0)
    max_header_fields: int = Field(default=2000, gt=0)
    # After this many failed attempts one mail is kept as unreadable (or skipped with a log line
    # naming its UID), so it can never hold back the mail after it.
    max_attempts: int = Field(default=5, ge=3)
