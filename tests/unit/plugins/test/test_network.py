"""ip_network and ipv4_address: what the firewall takes as SSH sources and as the hub host's address."""

import pytest

from ansible_collections.plasma.platform.plugins.test.network import ip_network, ipv4_address


@pytest.mark.parametrize("value", ["192.0.2.10", "198.51.100.0/24", "192.0.2.10/24", "2001:db8::/32", "::1"])
def test_addresses_and_networks_pass(value):
    assert ip_network(value)


@pytest.mark.parametrize("value", ["admins.example.org", "192.0.2.300", "198.51.100.0/33", "", "10.0.0.0/8 ", None, 3232235521])
def test_names_and_broken_addresses_fail(value):
    assert not ip_network(value)


def test_the_hub_host_s_address_is_one_ipv4_address():
    assert ipv4_address("172.20.0.2")
    assert not ipv4_address("172.20.0.0/16") and not ipv4_address("2001:db8::1") and not ipv4_address("")
