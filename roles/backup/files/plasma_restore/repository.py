# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""What a user may read from the restic repository: the folders that are theirs (their home, the group folders of
their groups, looked up at each request), paths inside them (never absolute, never "..", never through a link
the snapshot holds: restic itself does not follow one), and the snapshots that hold those folders."""

from __future__ import annotations

import asyncio
import grp
import json
import os
import pwd
import re
import shlex
from dataclasses import dataclass
from datetime import datetime


class Refused(Exception):
    """A request the user may not make; the message, shown to them, says why."""

    status = 403


class NotFound(Refused):
    status = 404


class RepositoryError(Exception):
    """restic failed; the message is its own."""


@dataclass(frozen=True)
class Folder:
    """A tree a user restores from: their home ("home") or a group folder of a group they are in ("group:NAME")."""

    key: str
    label: str
    path: str
    group: str | None = None


def folders_of(user: str, group_folders: list[dict]) -> list[Folder]:
    """The user's home, then the group folders ({name, path, group}) of the groups the account is in now."""
    try:
        account = pwd.getpwnam(user)
    except KeyError:
        raise Refused(f"there is no account {user} on this host") from None
    groups = {grp.getgrgid(gid).gr_name for gid in os.getgrouplist(user, account.pw_gid)}
    folders = [Folder("home", "Your home", account.pw_dir.rstrip("/") or "/")]
    for folder in group_folders:
        if folder["group"] in groups:
            folders.append(Folder(f"group:{folder['name']}", f"Group folder {folder['name']}", folder["path"].rstrip("/"), folder["group"]))
    return folders


def folder_of(user: str, key: str, group_folders: list[dict]) -> Folder:
    for folder in folders_of(user, group_folders):
        if folder.key == key:
            return folder
    raise Refused("that folder is not yours to restore from")


def relative_path(text: str) -> str:
    """A path inside a folder as the page sends it: names joined by "/", nothing absolute, no "." or ".."."""
    if not text:
        return ""
    parts = text.split("/")
    if "\0" in text or any(part in ("", ".", "..") for part in parts):
        raise Refused(f"{text!r} is not a path inside the folder: give names joined by '/', without '..'")
    return text


def holds(snapshot: dict, path: str) -> bool:
    """Whether the snapshot backed up the tree at path."""
    return any(root == "/" or path == root.rstrip("/") or path.startswith(root.rstrip("/") + "/") for root in snapshot.get("paths", []))


def snapshot_time(snapshot: dict) -> datetime:
    """restic's time stamp (nanoseconds, "Z" or an offset) in the host's time zone."""
    stamp = re.sub(r"(\.\d{6})\d+", r"\1", snapshot["time"]).replace("Z", "+00:00")
    return datetime.fromisoformat(stamp).astimezone()


class Repository:
    """restic on the backup role's repository, read-only (no lock: a nightly prune never blocks a user's restore)."""

    def __init__(self, env_file: str) -> None:
        self.env_file = env_file

    def environment(self) -> dict[str, str]:
        """The repository's settings and password (read at each use: an operator's change needs no restart)."""
        settings = {"PATH": os.environ.get("PATH") or "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root"}
        with open(self.env_file, encoding="utf-8") as lines:
            for line in lines:
                words = shlex.split(line, comments=True)
                if words and "=" in words[0]:
                    name, value = words[0].split("=", 1)
                    settings[name] = value
        return settings

    def command(self, *args: str) -> list[str]:
        return ["restic", "--no-lock", "--quiet", *args]

    async def run(self, *args: str) -> str:
        process = await asyncio.create_subprocess_exec(
            *self.command(*args), env=self.environment(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await process.communicate()
        if process.returncode:
            raise RepositoryError(err.decode(errors="replace").strip() or f"restic ended with {process.returncode}")
        return out.decode()

    async def snapshots(self, *paths: str) -> list[list[dict]]:
        """For each path, the snapshots that hold it, newest first (one read of the repository for all)."""
        every = sorted(json.loads(await self.run("snapshots", "--json") or "[]"), key=snapshot_time, reverse=True)
        return [[snapshot for snapshot in every if holds(snapshot, path)] for path in paths]

    async def snapshot(self, ident: str, path: str) -> dict:
        """The snapshot with this full id, which must hold path."""
        if not re.fullmatch(r"[0-9a-f]{64}", ident):
            raise NotFound("no such snapshot")
        (held,) = await self.snapshots(path)
        for snapshot in held:
            if snapshot["id"] == ident:
                return snapshot
        raise NotFound("no such snapshot of this folder")

    async def nodes(self, snapshot: dict, path: str, recursive: bool = False) -> tuple[dict, list[dict]]:
        """The entry at path in the snapshot, and what it holds (direct children, or every one below)."""
        args = ["ls", "--json", *(["--recursive"] if recursive else []), snapshot["id"], path]
        nodes = [node for node in map(json.loads, (await self.run(*args)).splitlines()) if node.get("struct_type") == "node"]
        entry = next((node for node in nodes if node["path"] == path), None)
        if entry is None:
            raise NotFound(f"{path} is not in this snapshot")
        return entry, sorted((node for node in nodes if node is not entry), key=lambda node: (node["type"] != "dir", node["name"]))
