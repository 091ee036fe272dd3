from ansible_collections.plasma.platform.plugins.filter.lists import advertise_addresses, repeated


def test_repeated_names_each_value_seen_again_once_in_order():
    assert repeated(["a", "b", "a", "c", "b", "a"]) == ["a", "b"]
    assert repeated(["a", "b"]) == []


def test_a_node_s_address_is_the_inventory_s_else_its_default_one_else_empty():
    hostvars = {
        "given": {"swarm_advertise_addr": "10.0.0.5", "ansible_facts": {"default_ipv4": {"address": "192.0.2.1"}}},
        "facts": {"ansible_facts": {"default_ipv4": {"address": "192.0.2.2"}}},
        "blank": {"swarm_advertise_addr": "", "ansible_facts": {"default_ipv4": {"address": "192.0.2.3"}}},
        "unknown": {},
    }
    assert advertise_addresses(["given", "facts", "blank", "unknown"], hostvars) == ["10.0.0.5", "192.0.2.2", "192.0.2.3", ""]
