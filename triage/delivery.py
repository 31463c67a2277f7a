"""How an outbound message's delivery state moves as the platform's receipts arrive."""

from __future__ import annotations

from channels.base import DeliveryState

# Receipts arrive in any order; the state only moves forward, and a failure wins.
_RANK = {
    DeliveryState.QUEUED: 0,
    DeliveryState.SENDING: 1,
    DeliveryState.SENT: 2,
    DeliveryState.DELIVERED: 3,
    DeliveryState.READ: 4,
    DeliveryState.FAILED: 5,
}


def moves_forward(current: str | None, receipt: str) -> bool:
    """Whether a receipt in state `receipt` should replace the message's `current` state."""
    if current is None:
        return True
    return _RANK[DeliveryState(receipt)] > _RANK[DeliveryState(current)]
