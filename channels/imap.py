"""Email: IMAP polling in, SMTP replies out."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import SecretStr

from channels.base import ChannelConfig, Duration


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
