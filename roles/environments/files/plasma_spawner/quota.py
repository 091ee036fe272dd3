# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""A user's disk quota, as the quotas role's plasma-quota reports it: shown on the spawn form, given to the server
(PLASMA_HOME_QUOTA, PLASMA_HOME_USAGE: bytes), and a start refused when the home is full - a server could not save."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from dataclasses import dataclass

from tornado import web

# The quotas role's program, found on the hub's PATH (it is installed only where limits are set).
PLASMA_QUOTA = "plasma-quota"
# Less free than this is full: not even a notebook's checkpoint fits.
FULL_MARGIN = 1024 * 1024

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Usage:
    used: int
    limit: int
    warning: bool

    @property
    def full(self) -> bool:
        return self.limit - self.used < FULL_MARGIN

    def sentence(self) -> str:
        return f"Your home folder holds {size(self.used)} of the {size(self.limit)} it may hold."


def size(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return ""


def parse(report: str) -> Usage | None:
    """plasma-quota usage --json's answer; None when the home has no limit."""
    row = json.loads(report or "{}")
    if not row.get("limit") or row.get("used") is None:
        return None
    return Usage(int(row["used"]), int(row["limit"]), row.get("state") in ("warning", "full"))


async def home_usage(name: str, program: str = PLASMA_QUOTA) -> Usage | None:
    """The user's home usage and limit; None without quotas (or when plasma-quota cannot tell: logged, not fatal)."""
    found = shutil.which(program)
    if found is None:
        return None
    process = await asyncio.create_subprocess_exec(found, "usage", name, "--json", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    if process.returncode:
        log.warning("plasma-quota could not tell %s's usage: %s", name, err.decode(errors="replace").strip())
        return None
    return parse(out.decode())


def check_not_full(usage: Usage | None) -> None:
    if usage is not None and usage.full:
        raise web.HTTPError(
            507,
            f"Your home folder is full ({size(usage.used)} of {size(usage.limit)}): a server could not save anything. "
            "Ask an administrator to raise your limit or to make room.",
        )


def quota_environment(usage: Usage | None) -> dict[str, str]:
    return {} if usage is None else {"PLASMA_HOME_QUOTA": str(usage.limit), "PLASMA_HOME_USAGE": str(usage.used)}
