"""The load of active users, run inside a test host by benchmarks/active_users.py with the hub's Python
(tornado only): each user holds one kernel's websocket and, once a second, runs a small cell and asks
the REST API for the kernel. Phases alternate between two ways in to the same servers ("proxy": the
hub's public port; "direct": each container's own address). Meanwhile it samples the hub's and the
proxy's CPU time, memory and open file descriptors from /proc.

A phase "churn:<way>" has each user reconnect instead: open the websocket, run one cell, drop the TCP connection
without the websocket's closing handshake; the processes' open files before it and `settle` seconds after it tell
whether the proxy lets go of connections whose client vanished.

Input (stdin, JSON): {"users": [{"name", "token", "kernel", "proxy", "direct"}], "phases": [[way, seconds]],
"rate": cells a second per user, "watch": {label: pid}, "settle": seconds}. Output (stdout, JSON): one record per
phase, with the TCP connections the host opened a second (each takes an ephemeral port).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
import uuid

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

TIMEOUT = 20.0  # seconds before a cell or a request counts as failed
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_sample(pid: int) -> dict:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
    rss = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    return {"cpu": cpu, "rss": rss, "fds": len(os.listdir(f"/proc/{pid}/fd"))}


def tcp_opens() -> int:
    """TCP connections the host's network namespace has opened so far (ActiveOpens: each takes an ephemeral port)."""
    with open("/proc/net/snmp") as snmp:
        tcp = [line.split() for line in snmp if line.startswith("Tcp:")]
    return int(tcp[1][tcp[0].index("ActiveOpens")])


class Phase:
    def __init__(self) -> None:
        self.cells: list[float] = []
        self.requests: list[float] = []
        self.errors: dict[str, int] = {}

    def error(self, kind: str, what: BaseException | str) -> None:
        key = f"{kind}: {str(what)[:80] or type(what).__name__}"
        self.errors[key] = self.errors.get(key, 0) + 1


# The message tests/support/hub.py's run_python sends; repeated here because this file runs alone inside the host.
def execute_message(name: str, session: str, code: str) -> tuple[str, str]:
    msg_id = uuid.uuid4().hex
    header = {"msg_id": msg_id, "msg_type": "execute_request", "username": name, "session": session, "date": "", "version": "5.3"}
    content = {"code": code, "silent": False, "store_history": False, "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}
    return msg_id, json.dumps({"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"})


async def run_cell(socket, name: str, session: str) -> None:
    msg_id, message = execute_message(name, session, "sum(range(1000))")
    await socket.write_message(message)
    while True:
        raw = await socket.read_message()
        if raw is None:
            raise ConnectionError("websocket closed")
        reply = json.loads(raw)
        if reply["parent_header"].get("msg_id") != msg_id:
            continue
        if reply["header"]["msg_type"] == "error":
            raise RuntimeError("the cell failed")
        if reply["header"]["msg_type"] == "status" and reply["content"]["execution_state"] == "idle":
            return


async def active_user(user: dict, way: str, seconds: float, rate: float, phase: Phase) -> None:
    base = user[way]
    headers = {"Authorization": f"token {user['token']}"}
    kernel = f"{base}api/kernels/{user['kernel']}"
    client = AsyncHTTPClient()
    session = uuid.uuid4().hex
    end = time.monotonic() + seconds
    await asyncio.sleep(random.random() / rate)  # users are not in step
    socket = None
    while time.monotonic() < end:
        tick = time.monotonic()
        try:
            if socket is None:
                request = HTTPRequest(kernel.replace("http", "ws", 1) + f"/channels?session_id={session}", headers=headers)
                socket = await asyncio.wait_for(websocket_connect(request), TIMEOUT)
            started = time.monotonic()
            await asyncio.wait_for(run_cell(socket, user["name"], session), TIMEOUT)
            phase.cells.append(time.monotonic() - started)
        except (TimeoutError, OSError, HTTPClientError, ConnectionError, RuntimeError) as error:
            phase.error("cell", error)
            if socket is not None:
                socket.close()
            socket = None
        try:
            started = time.monotonic()
            await client.fetch(kernel, headers=headers, request_timeout=TIMEOUT)
            phase.requests.append(time.monotonic() - started)
        except (TimeoutError, OSError, HTTPClientError) as error:
            phase.error("request", error)
        await asyncio.sleep(max(0.0, tick + 1 / rate - time.monotonic()))
    if socket is not None:
        socket.close()


async def reconnecting_user(user: dict, way: str, seconds: float, rate: float, phase: Phase) -> None:
    """A user whose connection drops, again and again (a laptop closed, a network change): opens the kernel's
    websocket, runs one cell, and closes the TCP connection without the websocket's closing handshake."""
    headers = {"Authorization": f"token {user['token']}"}
    url = f"{user[way]}api/kernels/{user['kernel']}/channels".replace("http", "ws", 1)
    end = time.monotonic() + seconds
    await asyncio.sleep(random.random() / rate)
    while time.monotonic() < end:
        tick = time.monotonic()
        session = uuid.uuid4().hex
        try:
            socket = await asyncio.wait_for(websocket_connect(HTTPRequest(f"{url}?session_id={session}", headers=headers)), TIMEOUT)
            started = time.monotonic()
            await asyncio.wait_for(run_cell(socket, user["name"], session), TIMEOUT)
            phase.cells.append(time.monotonic() - started)
            socket.protocol.stream.close()  # the TCP connection alone: no close frame
        except (TimeoutError, OSError, HTTPClientError, ConnectionError, RuntimeError) as error:
            phase.error("reconnect", error)
        await asyncio.sleep(max(0.0, tick + 1 / rate - time.monotonic()))


def quantiles(values: list[float]) -> dict:
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

    return {"count": len(ordered), "p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "max": ordered[-1]}


async def watch(pids: dict[str, int], samples: dict[str, list[dict]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        now = time.monotonic()
        for label, pid in pids.items():
            samples[label].append({"at": now, **process_sample(pid)})
        samples["tcp"].append({"at": now, "opens": tcp_opens()})
        try:
            await asyncio.wait_for(stop.wait(), 2)
        except TimeoutError:
            pass


async def main() -> None:
    plan = json.load(sys.stdin)
    AsyncHTTPClient.configure(None, max_clients=len(plan["users"]) * 2)
    records = []
    for way, seconds in plan["phases"]:
        phase = Phase()
        samples: dict[str, list[dict]] = {label: [] for label in [*plan["watch"], "tcp"]}
        before = {label: process_sample(pid)["fds"] for label, pid in plan["watch"].items()}
        stop = asyncio.Event()
        watcher = asyncio.ensure_future(watch(plan["watch"], samples, stop))
        started = time.monotonic()
        kind, _, way = way.rpartition(":")  # "churn:proxy" drops connections; "proxy" holds them
        user_task = reconnecting_user if kind == "churn" else active_user
        await asyncio.gather(*(user_task(user, way, seconds, plan["rate"], phase) for user in plan["users"]))
        elapsed = time.monotonic() - started
        stop.set()
        await watcher
        await asyncio.sleep(plan.get("settle", 0))  # what the processes still hold once every client is gone
        after = {label: process_sample(pid)["fds"] for label, pid in plan["watch"].items()}
        processes = {}
        for label, series in samples.items():
            if label == "tcp":
                continue
            span = series[-1]["at"] - series[0]["at"]
            processes[label] = {
                "cpu_percent": 100 * (series[-1]["cpu"] - series[0]["cpu"]) / span if span else 0.0,
                "rss_max": max(sample["rss"] for sample in series),
                "rss_last": series[-1]["rss"],
                "fds_max": max(sample["fds"] for sample in series),
                "fds_before": before[label],
                "fds_after": after[label],
            }
        records.append(
            {
                "way": way,
                "kind": kind or "hold",
                "seconds": elapsed,
                "cells": quantiles(phase.cells),
                "requests": quantiles(phase.requests),
                "errors": phase.errors,
                "processes": processes,
                "tcp_opens_per_second": (samples["tcp"][-1]["opens"] - samples["tcp"][0]["opens"]) / elapsed,
            }
        )
    json.dump(records, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main())
