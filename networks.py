"""Address lists in config (`[server] trusted_proxies`, `[metrics] allow`): each entry an IP
address or a CIDR, checked when the config is read and parsed once where it is used.

A leaf like `durations.py`: it imports nothing of ours, so any package's config may use it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Annotated

from pydantic import AfterValidator

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """The configured addresses and CIDRs; ValueError names the first that is neither."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)


def _checked(values: list[str]) -> list[str]:
    for value in values:
        try:
            ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or CIDR") from None
    return values


# A config field holding addresses or CIDRs, kept as written (the message names the bad one).
AddressList = Annotated[list[str], AfterValidator(_checked)]
