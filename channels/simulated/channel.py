"""The simulated channel: replies to `main.py simulate`'s sample reports go nowhere but are
reported delivered, so a newcomer sees the whole loop (report, ticket, reply, delivered)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from channels.base import (
    DeliveryState,
    DeliveryStatus,
    IntakeSink,
    OutboundMessage,
    Routes,
    SendResult,
)
from channels.simulated.config import SimulatedConfig

log = logging.getLogger(__name__)

NAME = "simulated"
ACCOUNT = "simulasi"  # the account every sample report arrives on


class SimulatedChannel:
    name = NAME
    account = ACCOUNT

    def __init__(self, config: SimulatedConfig, clock: Callable[[], datetime]) -> None:
        self.config = config
        self.clock = clock
        self._sink: IntakeSink | None = None
        self._receipts: set[asyncio.Task[None]] = set()

    def routes(self) -> Routes:
        return []

    async def start(self, sink: IntakeSink) -> None:
        self._sink = sink

    # ListensAndPolls: the outbox of every process may send a reply, so every process keeps
    # the sink for its receipts; there is nothing to poll.
    async def listen(self, sink: IntakeSink) -> None:
        self._sink = sink

    async def start_polling(self, sink: IntakeSink) -> None:
        self._sink = sink

    async def stop_polling(self) -> None:
        return None

    async def stop(self) -> None:
        for task in list(self._receipts):
            task.cancel()
        await asyncio.gather(*self._receipts, return_exceptions=True)
        self._sink = None

    async def send(self, message: OutboundMessage) -> SendResult:
        # The idempotency key is stable across retries: a second attempt is the same message.
        platform_id = f"sim-out-{message.idempotency_key}"
        task = asyncio.create_task(self._deliver(platform_id), name=f"simulated-{platform_id}")
        self._receipts.add(task)
        task.add_done_callback(self._receipts.discard)
        return SendResult(platform_id)

    async def _deliver(self, platform_id: str) -> None:
        """The receipt a platform would send, through the same intake as real receipts."""
        await asyncio.sleep(self.config.delivered_after.total_seconds())
        if self._sink is None:
            return
        status = DeliveryStatus(
            NAME,
            ACCOUNT,
            platform_id,
            DeliveryState.DELIVERED,
            self.clock(),
            raw={"simulated": True},
        )
        try:
            await self._sink.submit([status])
        except Exception:  # the reply stays "sent"; nothing else depends on the receipt
            log.exception(
                "simulated: receipt not stored channel=%s account=%s id=%s",
                NAME,
                ACCOUNT,
                platform_id,
            )
