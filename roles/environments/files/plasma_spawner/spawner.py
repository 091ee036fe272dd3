# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""The hub's spawner: a container per user, from one of the declared environments, running as the
user's own host account, with the home, an environment folder and read-only shared data."""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
import time

import docker.errors
from docker.types import Mount
from dockerspawner import SystemUserSpawner
from jupyterhub.utils import url_path_join
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from traitlets import Dict, Float, Integer, List, Unicode, default

from .environments import (
    Environment,
    check_account,
    check_environment_folder,
    check_home,
    check_running_servers,
    choose_environment,
    container_environment,
    group_names,
    host_account,
    host_groups,
    memory_bytes,
    offered_to,
    read_only_bind_options,
    tmp_mount_options,
)
from .form import environment_cards
from .quota import check_not_full, home_usage, quota_environment

# Where the host's entrypoint script appears in every user container.
ENTRYPOINT_IN_CONTAINER = "/opt/plasma/entrypoint.sh"
# All the entrypoint's root phase needs: read the image's private bundle, then become the user
# (setuid, setgid, setgroups) with an empty bounding set. The user's processes get none of them.
ENTRYPOINT_CAPABILITIES = ["DAC_READ_SEARCH", "SETGID", "SETUID", "SETPCAP"]
# Docker lets any process in a container bind ports below 1024; services that trust such ports (NFS with sec=sys,
# rsh-style checks) would then trust a user's process. Not in our containers.
CONTAINER_SYSCTLS = {"net.ipv4.ip_unprivileged_port_start": "1024"}
# What every server's container gets, on one host and in a fleet (PlasmaSwarmSpawner), whatever extra_* settings the
# operator adds: an init process (PID 1, docker-init), no capability but the entrypoint's four, no low ports.
CONTAINER_SECURITY = {"init": True, "cap_drop": ["ALL"], "cap_add": ENTRYPOINT_CAPABILITIES, "sysctls": CONTAINER_SYSCTLS}
# And no process in it may gain privileges (setuid files, file capabilities, sudo): Docker's security option.
NO_NEW_PRIVILEGES = "no-new-privileges"


def host_config(extra: dict, environment) -> dict:
    """The operator's extra_host_config with the environment's process and disk limits and /tmp, and the security
    settings on top: extra settings may add to them (a security option of their own), never loosen them."""
    disk = {"storage_opt": {**extra.get("storage_opt", {}), "size": str(environment.disk_limit)}} if environment.disk_limit else {}
    return {
        **extra,
        **disk,
        "pids_limit": environment.pids_limit or None,
        "tmpfs": {"/tmp": tmp_mount_options(environment)},
        **CONTAINER_SECURITY,
        "security_opt": sorted({*extra.get("security_opt", []), NO_NEW_PRIVILEGES}),
    }


# What the user reads when their server ended before it answered (its own output goes to the hub's log).
SERVER_ENDED = (
    "Your server stopped while starting, before it answered. A setting in your home (such as ~/.jupyter) or the "
    "environment's image may stop it; an administrator finds its last output in the hub's log."
)


class HostFull(Exception):
    """The host had too little memory available for a server to start, until the queue timeout."""


class QueueTimeout(Exception):
    """A server waited in the start queue longer than allowed."""


def available_memory() -> int:
    """The host's memory available to new processes without swapping (MemAvailable), in bytes: the hub runs on the
    host, so this is the memory the servers it starts share."""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("/proc/meminfo has no MemAvailable")


def mebibytes(count: int) -> str:
    return f"{count / 2**20:,.0f} MiB"


class StartQueue:
    """First come, first served: at most `slots` servers start at once; the others wait their turn
    and know their place in the line. One queue for the whole hub (one event loop)."""

    def __init__(self) -> None:
        self.starting = 0
        self.waiting: list[object] = []  # tickets, in order of arrival
        self._changed: asyncio.Condition | None = None

    @property
    def changed(self) -> asyncio.Condition:
        if self._changed is None:  # made in the hub's running loop, at first use
            self._changed = asyncio.Condition()
        return self._changed

    def place(self, ticket: object) -> int | None:
        """The ticket's place in the line (1 is next), or None when it is not waiting."""
        return self.waiting.index(ticket) + 1 if ticket in self.waiting else None

    @contextlib.asynccontextmanager
    async def turn(self, ticket: object, slots: int, timeout: float):
        """Wait until the ticket is first in line and a slot is free, at most timeout seconds (then
        QueueTimeout); hold the slot while the body runs. A cancelled waiter leaves the line at once."""
        self.waiting.append(ticket)
        try:
            async with self.changed:
                await asyncio.wait_for(self.changed.wait_for(lambda: self.waiting[0] is ticket and self.starting < slots), timeout)
                self.starting += 1
        except TimeoutError:
            raise QueueTimeout(f"waited {timeout:.0f} s in the start queue") from None
        finally:
            self.waiting.remove(ticket)
            await self._notify()
        try:
            yield
        finally:
            self.starting -= 1
            await self._notify()

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()


class PlasmaSpawner(SystemUserSpawner):
    """SystemUserSpawner with an allow-list of environments, checks that give users a clear
    message instead of a broken container, and the entrypoint that names the user and copies
    the image's bundled files."""

    environments = List(
        Dict(),
        config=True,
        help="The environments, in the order of the spawn page: dicts with display_name, image, folder, and optionally mem_limit and cpu_limit.",
    )
    entrypoint_path = Unicode(
        "/usr/local/lib/plasma-platform/entrypoint.sh",
        config=True,
        help="The entrypoint script on the host, mounted read-only into every user container.",
    )
    shared_data_path = Unicode("/srv/data", config=True, help="The host folder mounted read-only at /srv/data in every user container.")
    shared_folders = List(
        Dict(),
        config=True,
        help="Group folders, dicts with path and group: mounted read-write at path into the servers of the "
        "group's members only (membership read at every start).",
    )
    ready_poll_interval = Float(
        0.1,
        config=True,
        help="How often start() asks the new server whether it answers yet (seconds). JupyterHub's own wait "
        "doubles its interval from 0.2 s up to 5 s, so it notices a server seconds after it is ready.",
    )

    start_slots = Integer(
        8,
        config=True,
        help="How many servers may start at once; later ones wait in a queue, first come first served, "
        "and their progress page shows how many are ahead. Replaces JupyterHub's concurrent_spawn_limit, "
        "which refuses the users beyond it.",
    )
    queue_timeout = Float(
        600,
        config=True,
        help="Seconds a server may wait in the queue before the user is asked to try again later. The hub's "
        "start_timeout runs from the request, so it must be this plus the time a start itself may take.",
    )
    start_memory_reserve = Unicode(
        "1G",
        config=True,
        help="Memory the host must have available (MemAvailable) for a server to start (512M, 1G...; 0: no check). "
        "Below it, the start at the head of the queue waits, saying so on its progress page, until running servers "
        "stop and free memory, at most queue_timeout: a full host makes users wait in line instead of sending the "
        "kernel's out-of-memory killer after running servers, the hub or Docker.",
    )
    default_mem_limit = Unicode(
        "2G",
        config=True,
        help="The memory limit of an environment that sets none (512M, 2G...; 0: none). /tmp is in memory, within it.",
    )
    default_pids_limit = Integer(
        1024,
        config=True,
        help="How many processes and threads a server may run, for an environment that sets no pids_limit "
        "(0: no limit): a fork bomb stops there instead of taking the host.",
    )
    default_disk_limit = Unicode(
        "0",
        config=True,
        help="How much a server's container may hold outside its mounts (Docker's storage-opt size: 10G...; 0: none), "
        "for an environment that sets no disk_limit.",
    )
    servers_per_user = Integer(
        1,
        config=True,
        help="How many servers a user may run at once (JupyterHub's named servers), each in a different environment.",
    )
    start_queue = StartQueue()  # shared by every user's spawner in this hub
    _start_stage = "Server requested"
    chosen_environment: str | None = None  # set by start(), for the user's other servers to see
    _queue_ticket: object | None = None

    @property
    def environment_list(self) -> list[Environment]:
        defaults = {
            "mem_limit": self.default_mem_limit,
            "pids_limit": self.default_pids_limit,
            "disk_limit": self.default_disk_limit,
        }
        return [Environment.from_config(entry, defaults) for entry in self.environments]

    @property
    def offered_environments(self) -> list[Environment]:
        """The environments this user may start, by their host groups read afresh: a membership change
        applies at the next spawn page or start, without restarting the hub."""
        return offered_to(self.environment_list, group_names(self.user.name))

    # The spawn form lists the display names of the user's environments; anything else is refused, from
    # the form and the REST API alike. Both are callables, asked at every use.
    @default("allowed_images")
    def _default_allowed_images(self):
        return lambda spawner: {environment.display_name: environment.image for environment in spawner.offered_environments}

    @default("options_form")
    def _default_options_form(self):
        return lambda spawner: spawner.spawn_form()

    async def spawn_form(self) -> str:
        """The home's usage against its limit, where quotas are set, then the environment menu."""
        usage = await home_usage(self.user.name)
        if usage is None:
            return self.environment_form()
        warning = " text-danger" if usage.warning else ""
        return f'<p id="plasma-quota" class="plasma-quota{warning}">{html.escape(usage.sentence())}</p>\n{self.environment_form()}'

    def environment_form(self) -> str:
        """A card for each offered environment (DockerSpawner's `image` choice); none when there is no choice."""
        offered = self.offered_environments
        return environment_cards(offered) if len(offered) > 1 else ""

    @default("image")
    def _default_image(self) -> str:
        return self.environments[0]["image"] if self.environments else ""

    # Images are pre-pulled at provisioning time; a missing one is reported to the user at once.
    @default("pull_policy")
    def _default_pull_policy(self) -> str:
        return "never"

    @default("remove")
    def _default_remove(self) -> bool:
        return True

    @default("cmd")
    def _default_cmd(self) -> list[str]:
        return ["jupyterhub-singleuser"]

    # Only the entrypoint's first instant runs as root: it names the user, then drops to the user.
    @default("run_as_root")
    def _default_run_as_root(self) -> bool:
        return True

    @default("extra_create_kwargs")
    def _default_extra_create_kwargs(self) -> dict:
        return {"entrypoint": ["/bin/sh", ENTRYPOINT_IN_CONTAINER]}

    @default("extra_host_config")
    def _default_extra_host_config(self) -> dict:
        # DockerSpawner removes the container when the server stops (remove=True); Docker's own AutoRemove would also
        # remove it when the engine restarts, despite live-restore.
        return {"auto_remove": False}

    @default("volumes")
    def _default_volumes(self) -> dict:
        return {self.entrypoint_path: {"bind": ENTRYPOINT_IN_CONTAINER, "mode": "ro"}}

    @property
    def mount_binds(self) -> list[Mount]:
        """The operator's mounts, and the shared data: read-only, with nothing writable below it."""
        shared_data = Mount(target="/srv/data", source=self.shared_data_path, type="bind", read_only=True)
        shared_data["BindOptions"] = read_only_bind_options(self.client.api_version)
        return [*super().mount_binds, shared_data, *self.group_folder_mounts()]

    def group_folder_mounts(self) -> list[Mount]:
        """The group folders of this user's groups, read-write. One missing on the host is left out:
        Docker would create it, owned by root."""
        groups = group_names(self.user.name)
        mounts = []
        for folder in self.shared_folders:
            if folder["group"] not in groups:
                continue
            if not os.path.isdir(folder["path"]):
                self.log.warning("Group folder %s is missing on the host; not mounted for %s", folder["path"], self.user.name)
                continue
            mounts.append(Mount(target=folder["path"], source=folder["path"], type="bind", read_only=False))
        return mounts

    async def start(self):
        """Check what Docker would get wrong, give the container its environment's settings, start it."""
        self._start_stage = "Checking your account and environment"
        environment = choose_environment(self.offered_environments, self.user_options.get("image"), len(self.environment_list))
        check_running_servers(environment, self._other_running_servers(), self.servers_per_user)
        # Checked and claimed with no await in between: of two starts at once, the second sees the first.
        self.chosen_environment = environment.display_name
        account = host_account(self.user.name)
        check_account(account, set(getattr(self.authenticator, "allowed_groups", None) or ()))
        check_home(self.user.name, account.pw_dir)
        check_environment_folder(account.pw_dir, environment)
        usage = await home_usage(self.user.name)
        check_not_full(usage)
        image_id = await self._image_id(environment)
        # Read afresh at every start: the hub's stored state may hold the ids of an earlier account.
        self.user_id, self.group_id = account.pw_uid, account.pw_gid
        self.host_homedir_format_string = self.image_homedir_format_string = account.pw_dir.replace("{", "{{").replace("}", "}}")
        self.environment = {**self.environment, **container_environment(environment, image_id, host_groups(account)), **quota_environment(usage)}
        self.mem_limit = environment.mem_limit or None
        self.cpu_limit = environment.cpu_limit
        self.extra_host_config = host_config(self.extra_host_config, environment)
        self.image = environment.image  # DockerSpawner would keep an earlier start's choice
        self._queue_ticket = ticket = object()
        deadline = time.monotonic() + self.queue_timeout
        try:
            async with self.start_queue.turn(ticket, self.start_slots, self.queue_timeout):
                await self.wait_for_memory(deadline)
                # The hub's start_timeout covers the queue too; the start itself gets what is left of
                # it once the turn comes, so a user who waited is not cut short.
                self._start_stage = f"Starting {environment.display_name}"
                ip, port = await super().start()
                self._start_stage = "Waiting for your server to answer"
                scheme = "https" if self.internal_ssl else "http"
                await self.wait_until_answering(url_path_join(f"{scheme}://{ip}:{port}", self.server.base_url))
        except QueueTimeout:
            raise web.HTTPError(
                503,
                f"Too many servers are starting right now (yours waited {self.queue_timeout:.0f} s for its turn); please try again in a few minutes.",
            ) from None
        except HostFull as full:
            raise web.HTTPError(
                503,
                f"The host is full: {full} (your server waited {self.queue_timeout:.0f} s for memory to free up). Please try again "
                "later, or ask an administrator for more room.",
            ) from None
        return ip, port

    def memory_reserve(self) -> int:
        """The memory a start needs available on the host, in bytes (0: no check)."""
        return memory_bytes(self.start_memory_reserve) or 0

    async def wait_for_memory(self, deadline: float, interval: float = 2.0) -> None:
        """Hold the turn until the host has the reserve available, saying so on the progress page; HostFull at the
        deadline."""
        reserve = self.memory_reserve()
        while reserve and (available := available_memory()) < reserve:
            if time.monotonic() >= deadline:
                raise HostFull(f"{mebibytes(available)} of memory available, a server needs {mebibytes(reserve)} to start")
            self._start_stage = (
                f"The host is full ({mebibytes(available)} of memory available, {mebibytes(reserve)} needed): "
                "waiting for running servers to stop and free memory"
            )
            await asyncio.sleep(interval)

    def _other_running_servers(self) -> dict[str, str]:
        """The user's other servers that run or are in start(): {server name: environment display name}.
        One still on its way to start() is left out: it checks against this one when it gets there."""
        running = {}
        for name, spawner in self.user.spawners.items():
            if name == self.name or not spawner.active:
                continue
            chosen = getattr(spawner, "chosen_environment", None)
            if chosen is None and spawner.ready:  # running since before this hub started: its stored choice
                choice = (spawner.user_options or {}).get("image")
                try:
                    chosen = choose_environment(self.environment_list, choice).display_name
                except web.HTTPError:  # an environment no longer offered still counts against the limit
                    chosen = choice or ""
            if chosen is not None:
                running[name] = chosen
        return running

    async def progress(self):
        """The spawn page's messages: the place in the start queue while waiting, then what start() does."""
        last = None
        while True:
            place = self.start_queue.place(self._queue_ticket)
            if place is not None:
                event = {
                    "progress": 10,
                    "message": f"Waiting for a free start slot: number {place} in the queue ({self.start_queue.starting} server(s) starting now)",
                }
            else:
                event = {"progress": 50, "message": self._start_stage}
            if event != last:
                yield event
                last = event
            await asyncio.sleep(0.5)

    async def wait_until_answering(self, url: str) -> None:
        """Return as soon as the server at url answers, so that the hub's first check finds it ready.

        Gives up quietly after http_timeout (the hub's own wait then reports it as without this); fails at once,
        saying so, when the container has ended (the hub would otherwise wait out its http_timeout for a server that
        is gone). A refused connection costs next to nothing, so a tight interval keeps the hub idle even while a
        class starts at once."""
        client = AsyncHTTPClient()
        deadline = time.monotonic() + self.http_timeout
        next_poll = time.monotonic() + 1
        while time.monotonic() < deadline:
            try:
                await client.fetch(url, follow_redirects=False, request_timeout=max(deadline - time.monotonic(), 0.1))
                return
            except HTTPClientError as error:
                if error.code < 500:  # any answer but an error of the server's, as JupyterHub counts them
                    return
            except OSError:  # not listening yet
                pass
            if time.monotonic() >= next_poll:  # the container's state, once a second: not a Docker call per try
                if await self.poll() is not None:
                    await self.log_last_output()
                    raise web.HTTPError(500, SERVER_ENDED)
                next_poll = time.monotonic() + 1
            await asyncio.sleep(self.ready_poll_interval)

    async def last_output(self, lines: int) -> str:
        return (await self.docker("logs", self.object_id, tail=lines)).decode(errors="replace")

    async def log_last_output(self, lines: int = 40) -> None:
        """A server that ended while starting: its last output into the hub's log, since its container is removed
        with it (so `docker logs` has nothing left to show)."""
        try:
            output = await self.last_output(lines)
        except docker.errors.APIError as error:
            output = f"(none: {error})"
        self.log.error("%s's server %s ended while starting; its last output:\n%s", self.user.name, self.object_name, output.rstrip())

    async def _image_id(self, environment: Environment) -> str:
        try:
            image = await self.docker("inspect_image", environment.image)
        except docker.errors.ImageNotFound:
            raise web.HTTPError(
                503,
                f"The environment {environment.display_name!r} is not available on this server yet "
                f"(image {environment.image} is missing); please tell an administrator.",
            ) from None
        return image["Id"]
