"""The usage page's table (plasma_usage.rows): the hub's servers with Prometheus' numbers, sorted, and the totals."""

from datetime import UTC, datetime

from plasma_usage.rows import ordered, rows, totals


def sample(value: float, **labels: str) -> dict:
    return {"metric": labels, "value": [0, str(value)]}


USERS = [
    {"name": "alice", "servers": {"": {"user_options": {"image": "r/a:1"}, "started": "2026-12-03T10:00:00.000000Z", "last_activity": "2026-12-03T11:00:00Z"}}},
    {
        "name": "bob",
        "servers": {
            "": {"user_options": {"image": "r/b:1"}, "started": "2026-12-03T09:00:00Z", "last_activity": None},
            "second": {"user_options": {"image": "r/a:1"}, "started": "2026-12-03T10:30:00Z", "last_activity": "2026-12-03T10:40:00Z"},
        },
    },
    {"name": "carol", "servers": {}},
]
SAMPLES = {
    "cpu": [sample(0.5, user="alice", server=""), sample(1.25, user="bob", server="")],
    "memory": [sample(100 * 2**20, user="alice", server=""), sample(300 * 2**20, user="bob", server=""), sample(50 * 2**20, user="bob", server="second")],
    "memory_limit": [sample(2**30, user="alice", server="")],
    "home": [sample(5 * 2**20, name="alice", kind="home"), sample(60 * 2**20, name="bob", kind="home")],
    "home_limit": [sample(64 * 2**20, name="bob", kind="home")],
}


def test_each_running_server_gets_its_environment_and_numbers():
    found = rows(USERS, {"r/a:1": "Environment A"}, SAMPLES)
    assert [(row.user, row.server, row.environment) for row in found] == [
        ("alice", "", "Environment A"),
        ("bob", "", "r/b:1"),
        ("bob", "second", "Environment A"),
    ]
    alice, bob, second = found
    assert (alice.cpu, alice.memory, alice.memory_limit, alice.home, alice.home_limit) == (0.5, 100 * 2**20, 2**30, 5 * 2**20, None)
    assert second.cpu is None  # no sample yet: unknown, not 0
    assert bob.home_limit == 64 * 2**20 and second.home == 60 * 2**20  # the home is the user's, for each server
    assert alice.started == datetime(2026, 12, 3, 10, tzinfo=UTC) and bob.activity is None


def test_numbers_sort_largest_first_with_unknown_last_and_names_a_to_z():
    found = rows(USERS, {}, SAMPLES)
    assert [(row.user, row.server) for row in ordered(found, "cpu")] == [("bob", ""), ("alice", ""), ("bob", "second")]
    assert [(row.user, row.server) for row in ordered(found, "activity")] == [("alice", ""), ("bob", "second"), ("bob", "")]
    assert [row.user for row in ordered(found, "user")] == ["alice", "bob", "bob"]
    assert ordered(found, "no-such-column") == ordered(found, "user")


def test_totals_add_the_servers_up_beside_the_host_s_own():
    found = rows(USERS, {}, SAMPLES)
    host = {"cores": [sample(8)], "host_cpu": [sample(2.5)], "host_memory": [sample(16 * 2**30)], "host_memory_available": []}
    result = totals(found, host)
    assert result == {
        "servers": 3,
        "users": 2,
        "cpu": 1.75,
        "memory": 450 * 2**20,
        "host_cores": 8.0,
        "host_cpu": 2.5,
        "host_memory": 16 * 2**30,
        "host_memory_available": None,
    }
