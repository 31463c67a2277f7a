"""The `[channels.simulated]` table: the demo channel that `main.py simulate` reports arrive on."""

from __future__ import annotations

from datetime import timedelta

from channels.base import ChannelConfig, Duration


class SimulatedConfig(ChannelConfig):
    # How long the simulated reporter's phone takes to "receive" a reply: the reply shows
    # "sent" first, then "delivered", as on a real platform.
    delivered_after: Duration = timedelta(seconds=1)
