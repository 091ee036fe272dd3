# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""Tests of addresses, by Python's ipaddress."""

from __future__ import annotations

import ipaddress


def ip_network(value) -> bool:
    """An IPv4 or IPv6 address, or a network in CIDR form (host bits may be set: 192.0.2.10/24)."""
    try:
        ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return False
    return isinstance(value, str)


def ipv4_address(value) -> bool:
    try:
        ipaddress.IPv4Address(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


class TestModule:
    def tests(self) -> dict:
        return {"ip_network": ip_network, "ipv4_address": ipv4_address}
