"""The simulated channel: sample reports for `main.py simulate` and benchmarks, and the demo
channel their replies go to (no platform behind it)."""

from __future__ import annotations

from channels.simulated.channel import NAME, SimulatedChannel
from channels.simulated.config import SimulatedConfig
from channels.spec import ChannelContext, ChannelSpec


def _build(context: ChannelContext) -> SimulatedChannel:
    return SimulatedChannel(context.config, context.clock)


SPEC = ChannelSpec(
    name=NAME,
    config=SimulatedConfig,
    build=_build,
    labels={"id": "Simulasi", "en": "Simulation"},
    webhooks=False,
    polls=False,
)
