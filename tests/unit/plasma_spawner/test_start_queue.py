"""The start queue: at most start_slots servers start at once, the others wait first come first
served and see their place in the line, and a wait that lasts too long ends with a clear message."""

from __future__ import annotations

import asyncio
import time

import pytest

from plasma_spawner.spawner import HostFull, QueueTimeout, StartQueue, available_memory
from tests.unit.plasma_spawner.test_spawner import spawner


async def class_starting(queue: StartQueue, users: int, slots: int, work: float) -> tuple[list[str], int, list[int]]:
    """users start at once, each holding its slot for work seconds; (order of turns, most at once,
    each user's place in the line when it arrived)."""
    order, places, running, most = [], [], [0], [0]

    async def start(name: str) -> None:
        ticket = object()
        turn = queue.turn(ticket, slots, timeout=30)
        waiting = asyncio.create_task(turn.__aenter__())
        await asyncio.sleep(0)  # joined the line
        places.append(queue.place(ticket) or 0)
        await waiting
        try:
            order.append(name)
            running[0] += 1
            most[0] = max(most[0], running[0])
            await asyncio.sleep(work)
            running[0] -= 1
        finally:
            await turn.__aexit__(None, None, None)

    for number in range(users):
        asyncio.create_task(start(f"user-{number}"))
        await asyncio.sleep(0.001)
    while len(order) < users or queue.starting:
        await asyncio.sleep(0.01)
    return order, most[0], places


def test_no_more_than_the_slots_start_at_once_and_turns_come_in_order_of_arrival():
    order, most, places = asyncio.run(class_starting(StartQueue(), users=7, slots=3, work=0.05))
    assert most == 3
    assert order == [f"user-{number}" for number in range(7)]
    # The first three found a free slot at once (they are counted in the line until they take it).
    assert places[3:] == [1, 2, 3, 4]


def test_a_wait_beyond_the_queue_timeout_fails_and_leaves_the_line_to_the_others():
    async def scenario() -> list[str]:
        queue, events = StartQueue(), []
        first, late, patient = object(), object(), object()
        async with queue.turn(first, slots=1, timeout=1):
            late_turn = asyncio.create_task(queue.turn(late, slots=1, timeout=0.2).__aenter__())
            patient_turn = queue.turn(patient, slots=1, timeout=5)
            patient_waits = asyncio.create_task(patient_turn.__aenter__())
            await asyncio.sleep(0)
            assert queue.place(patient) == 2
            with pytest.raises(QueueTimeout):
                await late_turn
            events.append(f"patient is now number {queue.place(patient)}")
        await patient_waits
        events.append(f"patient starts, {queue.starting} starting")
        await patient_turn.__aexit__(None, None, None)
        events.append(f"{queue.starting} starting, {len(queue.waiting)} waiting")
        return events

    assert asyncio.run(scenario()) == ["patient is now number 1", "patient starts, 1 starting", "0 starting, 0 waiting"]


def test_a_cancelled_start_leaves_the_line():
    async def scenario() -> tuple[int | None, int]:
        queue, first, cancelled = StartQueue(), object(), object()
        async with queue.turn(first, slots=1, timeout=1):
            waiting = asyncio.create_task(queue.turn(cancelled, slots=1, timeout=5).__aenter__())
            await asyncio.sleep(0)
            waiting.cancel()  # what the hub does when its start_timeout ends
            await asyncio.gather(waiting, return_exceptions=True)
            return queue.place(cancelled), len(queue.waiting)

    assert asyncio.run(scenario()) == (None, 0)


def test_the_progress_page_shows_the_place_in_the_queue_then_the_start():
    async def scenario() -> list[str]:
        server = spawner()
        server.start_queue = queue = StartQueue()
        ahead, messages = object(), []
        async with queue.turn(ahead, slots=1, timeout=1):
            server._queue_ticket = ticket = object()
            waiting = asyncio.create_task(queue.turn(ticket, slots=1, timeout=5).__aenter__())
            progress = server.progress()
            await asyncio.sleep(0)
            messages.append((await progress.__anext__())["message"])
        await waiting
        server._start_stage = "Starting Python"
        messages.append((await progress.__anext__())["message"])
        await progress.aclose()
        return messages

    assert asyncio.run(scenario()) == [
        "Waiting for a free start slot: number 1 in the queue (1 server(s) starting now)",
        "Starting Python",
    ]


def test_a_start_on_a_full_host_waits_saying_so_until_memory_frees_up(monkeypatch):
    readings = iter([300 * 2**20, 600 * 2**20, 2 * 2**30])  # MiB available at each look: servers stop meanwhile
    monkeypatch.setattr("plasma_spawner.spawner.available_memory", lambda: next(readings))

    async def scenario() -> list[str]:
        server = spawner(start_memory_reserve="1G")
        stages = []
        waiting = asyncio.create_task(server.wait_for_memory(deadline=time.monotonic() + 5, interval=0.01))
        while not waiting.done():
            if server._start_stage not in stages:
                stages.append(server._start_stage)
            await asyncio.sleep(0.001)
        await waiting
        return stages

    assert asyncio.run(scenario())[1:] == [
        "The host is full (300 MiB of memory available, 1,024 MiB needed): waiting for running servers to stop and free memory",
        "The host is full (600 MiB of memory available, 1,024 MiB needed): waiting for running servers to stop and free memory",
    ]


def test_a_host_that_stays_full_ends_the_wait_with_a_clear_refusal(monkeypatch):
    monkeypatch.setattr("plasma_spawner.spawner.available_memory", lambda: 300 * 2**20)
    server = spawner(start_memory_reserve="1G")
    with pytest.raises(HostFull, match="300 MiB of memory available, a server needs 1,024 MiB to start"):
        asyncio.run(server.wait_for_memory(deadline=time.monotonic() + 0.05, interval=0.01))


def test_no_reserve_no_wait_and_the_host_s_memory_is_read(monkeypatch):
    assert available_memory() > 0  # this machine's /proc/meminfo
    monkeypatch.setattr("plasma_spawner.spawner.available_memory", lambda: 0)
    asyncio.run(spawner(start_memory_reserve="0").wait_for_memory(deadline=time.monotonic()))
