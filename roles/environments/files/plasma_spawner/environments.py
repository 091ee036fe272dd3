# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""What the spawner decides before Docker is asked anything: pure functions over the
environments list and the host's account database, each refusal a message for the user."""

from __future__ import annotations

import grp
import os
import pwd
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass

from tornado import web

# The forms roles/environments accepts: a number of bytes, or with a K/M/G/T suffix in either case.
_MEMORY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([KMGT]?)$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def memory_bytes(limit: str | int | None) -> int | None:
    """A memory limit as bytes: '512m', '1G', '1.5g' and '1073741824' all work (None: no limit)."""
    if limit is None or isinstance(limit, int):
        return limit
    match = _MEMORY.match(str(limit).strip())
    if not match:
        raise ValueError(f"memory limit {limit!r} is not a number of bytes with an optional K, M, G or T suffix")
    number, unit = match.groups()
    return int(float(number) * _UNITS[unit.upper()])


@dataclass(frozen=True)
class Environment:
    """One entry of environments_list, as the hub configuration passes it (folder computed at deploy time)."""

    display_name: str
    image: str
    folder: str
    mem_limit: int | None = None
    cpu_limit: float | None = None
    pids_limit: int | None = None
    disk_limit: int | None = None  # bytes of the container's root filesystem (Docker's storage-opt size)
    groups: tuple[str, ...] = ()  # host groups whose members may start it; empty: everyone
    constraints: tuple[str, ...] = ()  # Swarm placement constraints, in a fleet
    description: str = ""  # for the spawn page
    repository: str = ""  # a built environment's Git repository, and the commit its image was built from
    commit: str = ""

    @classmethod
    def from_config(cls, entry: dict, defaults: dict | None = None) -> Environment:
        """An entry of the hub's configuration; defaults (mem_limit, pids_limit, disk_limit) fill what it leaves unset."""
        entry = {**(defaults or {}), **{key: value for key, value in entry.items() if value is not None}}
        return cls(
            display_name=entry["display_name"],
            image=entry["image"],
            folder=entry["folder"],
            mem_limit=memory_bytes(entry.get("mem_limit")),
            cpu_limit=None if entry.get("cpu_limit") is None else float(entry["cpu_limit"]),
            pids_limit=None if entry.get("pids_limit") is None else int(entry["pids_limit"]),
            disk_limit=memory_bytes(entry.get("disk_limit")),
            groups=tuple(entry.get("groups") or ()),
            constraints=tuple(entry.get("constraints") or ()),
            description=entry.get("description") or "",
            repository=entry.get("repository") or "",
            commit=entry.get("commit") or "",
        )


def offered_to(environments: Sequence[Environment], group_names: set[str]) -> list[Environment]:
    """The environments of a user in these host groups: the unrestricted ones, and those of their groups."""
    return [environment for environment in environments if not environment.groups or group_names & set(environment.groups)]


def group_names(name: str) -> set[str]:
    """The names of the host groups of the account name, read afresh (none without an account)."""
    try:
        account = pwd.getpwnam(name)
    except KeyError:
        return set()
    return {group for group, _gid in host_groups(account)}


def choose_environment(environments: Sequence[Environment], choice: str | None, configured: int | None = None) -> Environment:
    """The environment a user asked for by display name (the first one when they did not choose), among
    the environments offered to them; configured: how many there are in all, when that is more."""
    if not environments and configured:
        raise web.HTTPError(403, "None of this server's environments is offered to your groups; please ask an administrator.")
    if not environments:
        raise web.HTTPError(503, "No environment is configured on this server yet; please tell an administrator.")
    if choice is None:
        return environments[0]
    for environment in environments:
        if environment.display_name == choice:
            return environment
    names = ", ".join(environment.display_name for environment in environments)
    raise web.HTTPError(400, f"{choice!r} is not one of this server's environments: {names}")


def check_running_servers(environment: Environment, running: dict[str, str], limit: int) -> None:
    """Refuse a server beyond the user's limit, or a second one in an environment already running (two
    containers would write the same environment folder). running maps the user's other running or
    starting servers' names ('' for the default one) to their environments' display names."""

    def called(name: str) -> str:
        return f"your server {name!r}" if name else "your default server"

    for name, display_name in running.items():
        if display_name == environment.display_name:
            raise web.HTTPError(409, f"{environment.display_name} already runs in {called(name)}: open it there, or stop it first.")
    if len(running) >= limit:
        names = ", ".join(called(name) for name in sorted(running))
        raise web.HTTPError(409, f"You can run {limit} server(s) at once and already run {len(running)} ({names}); stop one first.")


def host_account(name: str) -> pwd.struct_passwd:
    """The user's host account, read afresh: a uid changed since the last start is followed."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise web.HTTPError(500, f"There is no host account for {name}; please tell an administrator.") from None


# The uids of people's accounts (useradd's range); the users role gives no other.
FIRST_UID, LAST_UID = 1000, 59999
# Where images keep their bundled files: an account whose home is there would hide them.
BUNDLE_HOME = "/home/jovyan"


def check_account(account: pwd.struct_passwd, allowed_groups: set[str]) -> None:
    """Refuse a server to an account that is not a platform user's: outside the hub's login groups, a system
    account, or one whose home would hide the images' bundled files. An admin's API request is refused too."""
    name = account.pw_name
    if allowed_groups and not allowed_groups & {group for group, _gid in host_groups(account)}:
        raise web.HTTPError(
            403, f"{name} is not a user of this platform (in none of the groups {', '.join(sorted(allowed_groups))}): no server is started for it."
        )
    if not FIRST_UID <= account.pw_uid <= LAST_UID:
        raise web.HTTPError(403, f"{name} is a system account (uid {account.pw_uid}): servers run only for people's accounts (uid {FIRST_UID} to {LAST_UID}).")
    if os.path.normpath(account.pw_dir) == BUNDLE_HOME:
        raise web.HTTPError(
            403,
            f"The home of {name} is {BUNDLE_HOME}, where the environment images keep their bundled files: no server is "
            "started for it; please tell an administrator.",
        )


def check_home(name: str, home: str) -> None:
    """Refuse a missing home: Docker would create it as root."""
    try:
        info = os.lstat(home)
    except FileNotFoundError:
        info = None
    if info is None or not stat.S_ISDIR(info.st_mode):
        raise web.HTTPError(500, f"The home folder {home} of {name} does not exist on the host; please tell an administrator.")


def check_environment_folder(home: str, environment: Environment) -> None:
    """Refuse an environment folder the container would refuse too, with the reason for the user."""
    path = os.path.join(home, environment.folder)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return  # created by the container, as the user
    if stat.S_ISLNK(info.st_mode):
        reason = "is a symbolic link"
    elif not stat.S_ISDIR(info.st_mode):
        reason = "is not a folder"
    else:
        return
    raise web.HTTPError(
        409,
        f"The folder {path} of the environment {environment.display_name!r} {reason}, so it cannot be used: rename or remove it, then start again.",
    )


def host_groups(account: pwd.struct_passwd) -> list[tuple[str, int]]:
    """The account's groups as `id` shows them on the host: (name, gid), the primary group first."""
    gids = [account.pw_gid] + [gid for gid in os.getgrouplist(account.pw_name, account.pw_gid) if gid != account.pw_gid]
    groups = []
    for gid in dict.fromkeys(gids):
        try:
            groups.append((grp.getgrgid(gid).gr_name, gid))
        except KeyError:
            groups.append((str(gid), gid))  # a gid without a name, as `id` shows it
    return groups


# Docker 25 (API 1.44) can make a bind read-only all the way down; older engines only its top.
RECURSIVE_READ_ONLY_API = (1, 44)


def read_only_bind_options(api_version: str) -> dict:
    """Bind options that leave nothing writable under a read-only bind, on any engine: recursively
    read-only where the engine can do it, else without the mounts below it (they are not shown)."""
    major, minor = (int(part) for part in api_version.split(".")[:2])
    if (major, minor) >= RECURSIVE_READ_ONLY_API:
        return {"ReadOnlyForceRecursive": True}
    return {"NonRecursive": True}


def tmp_mount_options(environment: Environment) -> str:
    """/tmp in memory, no larger than the memory limit (whose cgroup its pages count against): it cannot fill
    the host's disk the way the container's writable layer would."""
    size = f",size={environment.mem_limit}" if environment.mem_limit else ""
    return f"rw,nosuid,nodev,mode=1777{size}"


def container_environment(environment: Environment, image_id: str, groups: list[tuple[str, int]]) -> dict[str, str]:
    """What the entrypoint needs beyond SystemUserSpawner's NB_USER/NB_UID/NB_GID/HOME."""
    return {
        "PLASMA_ENVIRONMENT_FOLDER": environment.folder,
        # The image's id tells the entrypoint whether this image's bundled files were copied already.
        "PLASMA_BUNDLE_ID": image_id,
        # One name:gid a line, the primary group first, so that `id` inside matches `id` on the host
        # (a line, not a word: directory-fed group names may contain spaces; none contains ':').
        "PLASMA_GROUPS": "\n".join(f"{name}:{gid}" for name, gid in groups),
    }
