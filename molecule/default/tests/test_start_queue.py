"""A class starting at once: beyond environments_start_slots (1 in this scenario) servers wait their
turn, the hub's progress page tells each user their place in the queue, and every server starts.
(first.last is gone by now: tests/test_real_images.py removes the account.)"""

from __future__ import annotations

import json
import re
import threading
import time

import pytest

from tests.support.hub import UserServer

testinfra_hosts = ["ansible://all"]
pytestmark = pytest.mark.release_independent

# Three servers requested at once: alice's, and two of bob's (a named one beside his default one).
SERVERS = [("alice", "alice-pass", "", "Environment B"), ("bob", "bob-pass", "", "Environment B"), ("bob", "bob-pass", "second", "Environment A")]


def progress_messages(server: UserServer) -> list[str]:
    """The messages of the hub's progress stream (what the spawn page shows) until the start ends."""
    response = server.session.get(f"{server.server_api}/progress", stream=True, timeout=300)
    messages = []
    for line in response.iter_lines(decode_unicode=True):
        if line and line.startswith("data:"):
            messages.append(json.loads(line[len("data:") :])["message"])
    return messages


def test_servers_beyond_the_start_slots_wait_in_line_and_all_start(hub):
    tokens = {name: hub.token(name, password) for name, password, _, _ in SERVERS}
    servers = {(name, server): UserServer(hub, name, tokens[name], server) for name, _, server, _ in SERVERS}
    for server in servers.values():
        server.stop()
    seen: dict[tuple[str, str], list[str]] = {}
    answers: dict[tuple[str, str], int] = {}

    def start(key: tuple[str, str], environment: str) -> None:
        server = servers[key]
        requested = threading.Thread(
            target=lambda: answers.__setitem__(key, server.session.post(server.server_api, json={"image": environment}, timeout=120).status_code)
        )
        requested.start()
        deadline = time.monotonic() + 30
        while not (server.model() or {}).get("pending"):
            assert time.monotonic() < deadline, f"{key}'s start never became pending"
            time.sleep(0.05)
        seen[key] = progress_messages(server)
        requested.join()

    threads = [threading.Thread(target=start, args=((name, server), environment)) for name, _, server, environment in SERVERS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=400)
    try:
        assert sorted(answers) == sorted(servers) and set(answers.values()) <= {201, 202}, answers
        for server in servers.values():
            assert server.model()["ready"], seen
        places = [int(place) for messages in seen.values() for message in messages for place in re.findall(r"number (\d+) in the queue", message)]
        starting_now = [
            int(count) for messages in seen.values() for message in messages for count in re.findall(r"\((\d+) server\(s\) starting now\)", message)
        ]
        # Three at once through one slot: someone waited behind another waiting user, and never more
        # than one server started at a time.
        assert 2 in places, seen
        # (0 is honest too: the first in line in the instant between a start ending and its own beginning.)
        assert max(starting_now) == 1, seen
        assert all(messages[-1].startswith("Server ready") for messages in seen.values()), seen
    finally:
        for server in servers.values():
            server.stop()
