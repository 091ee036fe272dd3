# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""Filters of lists: what validation messages and the fleet's inventory need."""

from __future__ import annotations


def repeated(values: list) -> list:
    """The values that appear more than once, each once, in the order they first repeat."""
    seen, found = set(), []
    for value in values:
        if value in seen and value not in found:
            found.append(value)
        seen.add(value)
    return found


def advertise_addresses(hosts: list, hostvars) -> list[str]:
    """Each host's swarm_advertise_addr from the inventory, else the default IPv4 address its facts report ('' when
    neither is known)."""
    addresses = []
    for name in hosts:
        host = hostvars[name]
        given = host.get("swarm_advertise_addr") or ""
        addresses.append(given or ((host.get("ansible_facts") or {}).get("default_ipv4") or {}).get("address", ""))
    return addresses


class FilterModule:
    def filters(self) -> dict:
        return {"repeated": repeated, "advertise_addresses": advertise_addresses}
