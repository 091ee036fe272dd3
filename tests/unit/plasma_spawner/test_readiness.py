"""start() returns once the new server answers, so the hub notices it at its first check instead of
seconds later on its back-off; and it never turns a failing server into something else."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import pytest
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

from tests.unit.plasma_spawner.test_spawner import spawner


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Answer(RequestHandler):
    def initialize(self, codes: list[int], seen: list[int]) -> None:
        self.codes, self.seen = codes, seen

    def get(self, _path: str) -> None:
        code = self.codes.pop(0) if len(self.codes) > 1 else self.codes[0]
        self.seen.append(code)
        self.set_status(code)


async def wait_for_server_started_late(codes: list[int], delay: float, **settings) -> tuple[list[str], list[int]]:
    """A server that starts listening after delay and answers with codes; returns the order of events."""
    port, events, seen = free_port(), [], []
    server = spawner(**settings)

    async def container_running() -> None:
        return None

    server.poll = container_running

    async def start_server_later() -> HTTPServer:
        await asyncio.sleep(delay)
        http = HTTPServer(Application([(r"/(.*)", Answer, {"codes": codes, "seen": seen})]))
        http.listen(port, "127.0.0.1")
        events.append("listening")
        return http

    later = asyncio.create_task(start_server_later())
    await asyncio.wait_for(server.wait_until_answering(f"http://127.0.0.1:{port}/user/bob/"), 30)
    events.append("returned")
    (await later).stop()
    return events, seen


def test_it_returns_once_the_server_answers_not_before():
    events, seen = asyncio.run(wait_for_server_started_late([200], delay=0.5))
    assert events == ["listening", "returned"]
    assert seen == [200]


def test_a_server_error_is_not_an_answer_but_any_other_code_is():
    events, seen = asyncio.run(wait_for_server_started_late([502, 503, 404], delay=0.2))
    assert events == ["listening", "returned"]
    assert seen == [502, 503, 404]


def test_a_container_that_ended_fails_the_start_at_once_and_logs_its_last_output(caplog):
    server = spawner(http_timeout=600)

    async def container_exited() -> int:
        return 1

    async def output(lines: int) -> str:
        return "Traceback (most recent call last):\nImportError: no module named jupyterhub\n"

    server.poll, server.last_output = container_exited, output
    # Nothing listens there; without the container check this would wait the whole http_timeout (and the hub its own).
    with caplog.at_level(logging.ERROR), pytest.raises(web.HTTPError, match="Your server stopped while starting"):
        asyncio.run(asyncio.wait_for(server.wait_until_answering(f"http://127.0.0.1:{free_port()}/"), 30))
    assert "ended while starting; its last output:\nTraceback (most recent call last):\nImportError: no module named jupyterhub" in caplog.text


def test_a_server_that_never_answers_is_left_to_the_hub_after_http_timeout():
    server = spawner(http_timeout=1)

    async def container_running() -> None:
        return None

    server.poll = container_running
    # Returns, after http_timeout, without an error of its own: the hub's wait then reports the timeout as it always has.
    started = time.monotonic()
    assert asyncio.run(asyncio.wait_for(server.wait_until_answering(f"http://127.0.0.1:{free_port()}/"), 30)) is None
    assert 1 <= time.monotonic() - started < 30
