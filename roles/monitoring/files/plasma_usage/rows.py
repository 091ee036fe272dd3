# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""The usage page's table: one row per running server, from the hub's users (GET /hub/api/users) and Prometheus'
instant samples, and the host's totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# The page's columns: key, heading, and how a row sorts on it (largest first for numbers, newest first for times).
COLUMNS = [
    ("user", "User"),
    ("server", "Server"),
    ("environment", "Environment"),
    ("cpu", "CPU (cores)"),
    ("memory", "Memory"),
    ("home", "Home"),
    ("activity", "Last activity"),
    ("started", "Started"),
]
NUMBERS = {"cpu", "memory", "home", "activity", "started"}


@dataclass
class Row:
    user: str
    server: str
    environment: str
    cpu: float | None
    memory: float | None
    memory_limit: float | None
    home: float | None
    home_limit: float | None
    activity: datetime | None
    started: datetime | None

    def key(self, column: str):
        value = getattr(self, column)
        if column in NUMBERS:  # unknown values last, whichever the order
            return (value is not None, value.timestamp() if isinstance(value, datetime) else value or 0)
        return (True, value.lower())


def by_labels(samples: list[dict], *names: str) -> dict[tuple, float]:
    """Prometheus' instant vector ({metric, value: [time, "number"]}) as {(label values...): number}."""
    return {tuple(sample["metric"].get(name, "") for name in names): float(sample["value"][1]) for sample in samples}


def parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def rows(users: list[dict], environments: dict[str, str], samples: dict[str, list[dict]]) -> list[Row]:
    """Each ready or starting server of users, with its numbers where Prometheus has them (a server that started
    within the last minute may have none yet)."""
    cpu = by_labels(samples["cpu"], "user", "server")
    memory = by_labels(samples["memory"], "user", "server")
    memory_limit = by_labels(samples["memory_limit"], "user", "server")
    home = by_labels(samples["home"], "name")
    home_limit = by_labels(samples["home_limit"], "name")
    found = []
    for user in users:
        for name, server in (user.get("servers") or {}).items():
            image = (server.get("user_options") or {}).get("image", "")
            found.append(
                Row(
                    user=user["name"],
                    server=name,
                    environment=environments.get(image, image),
                    cpu=cpu.get((user["name"], name)),
                    memory=memory.get((user["name"], name)),
                    memory_limit=memory_limit.get((user["name"], name)),
                    home=home.get((user["name"],)),
                    home_limit=home_limit.get((user["name"],)),
                    activity=parse_time(server.get("last_activity")),
                    started=parse_time(server.get("started")),
                )
            )
    return found


def ordered(found: list[Row], column: str) -> list[Row]:
    """Sorted on column: names A to Z, numbers and times largest and newest first; unknown numbers last."""
    if column not in dict(COLUMNS):
        column = "user"
    return sorted(found, key=lambda row: row.key(column), reverse=column in NUMBERS)


def totals(found: list[Row], host: dict[str, list[dict]]) -> dict[str, float | None]:
    """The servers' sums, and the host's cores, CPU in use and memory (node exporter's)."""

    def one(name: str) -> float | None:
        return float(host[name][0]["value"][1]) if host.get(name) else None

    return {
        "servers": len(found),
        "users": len({row.user for row in found}),
        "cpu": sum(row.cpu or 0 for row in found),
        "memory": sum(row.memory or 0 for row in found),
        "host_cores": one("cores"),
        "host_cpu": one("host_cpu"),
        "host_memory": one("host_memory"),
        "host_memory_available": one("host_memory_available"),
    }
