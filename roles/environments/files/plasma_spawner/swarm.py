# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""The hub's spawner in a fleet: each server is a Docker Swarm service of one task, on a node that holds its image,
with what PlasmaSpawner gives a container on a single host (the same security settings, limits, mounts and
environment) and DockerSpawner's SwarmSpawner's extra_* settings."""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import time
from pathlib import Path

import docker.errors
from docker.types import ContainerSpec, EndpointSpec, Mount, Placement, Resources, RestartPolicy, SecretReference, TaskTemplate
from dockerspawner import SwarmSpawner
from tornado import web
from traitlets import Dict, Float, Unicode, default

from .environments import Environment, host_account
from .spawner import CONTAINER_SECURITY, ENTRYPOINT_IN_CONTAINER, PlasmaSpawner

# Task states on the way to running, and those it never comes back from.
_STARTING = {"new", "allocated", "pending", "assigned", "accepted", "preparing", "ready", "starting"}
_ENDED = {"complete", "shutdown", "failed", "rejected", "orphaned", "remove"}
# Internal TLS: where a server finds its key, certificate and the CAs it trusts (JupyterHub's cert_paths keys), as
# Swarm secrets, in memory in its container; and the label that ties each secret to its server's service.
TLS_FILES = {"keyfile": "jupyterhub-ssl.key", "certfile": "jupyterhub-ssl.crt", "cafile": "jupyterhub-ssl-ca.crt"}
SECRET_SERVICE_LABEL = "org.jupyter.service"
# Docker's race in making a task's secrets read-only (moby#48783; the engine retries it itself only from 2026 on):
# the container never ran, and a new service of the same spec starts it. Other failures are the user's to read.
TRANSIENT_START_ERROR = "device or resource busy"
START_ATTEMPTS = 3


def node_address(node: dict) -> str:
    """Where the hub reaches a node's published ports: its advertised address. A manager may report 0.0.0.0 as
    its status address; its manager address then names it."""
    address = node["Status"].get("Addr", "")
    if address in ("", "0.0.0.0") and node.get("ManagerStatus"):
        address = node["ManagerStatus"]["Addr"].rsplit(":", 1)[0]
    return address


def alt_name(address: str) -> str:
    """A certificate's subject alternative name for an address."""
    try:
        return f"IP:{ipaddress.ip_address(address)}"
    except ValueError:
        return f"DNS:{address}"


def published_port(task: dict, target: int) -> int | None:
    """The node port a task's container port is published at (host mode), once the task runs."""
    for port in task["Status"].get("PortStatus", {}).get("Ports", []):
        if port.get("TargetPort") == target:
            return port.get("PublishedPort")
    return None


def tmp_mount(environment: Environment) -> Mount:
    """/tmp in memory, within the memory limit, as on a single host."""
    return Mount(target="/tmp", source=None, type="tmpfs", tmpfs_size=environment.mem_limit or None, tmpfs_mode=0o1777)


def service_resources(environment: Environment, extra: dict | None = None) -> Resources:
    """The environment's limits, also reserved, so that a node runs no more servers than it has room for, over the
    operator's extra_resources_spec; and its process limit (Docker API 1.41's Limits.Pids, which docker-py does not
    name)."""
    nano_cpus = int(environment.cpu_limit * 1e9) if environment.cpu_limit else None
    resources = Resources(
        **{
            **(extra or {}),
            "mem_limit": environment.mem_limit or None,
            "mem_reservation": environment.mem_limit or None,
            "cpu_limit": nano_cpus,
            "cpu_reservation": nano_cpus,
        }
    )
    if environment.pids_limit:
        resources.setdefault("Limits", {})["Pids"] = environment.pids_limit
    return resources


# Swarm's ContainerSpec.Privileges.NoNewPrivileges: Docker 27 (API 1.46) and later; the entrypoint's setpriv
# --no-new-privs covers the server on older engines, the root phase only has it there.
NO_NEW_PRIVILEGES_API = (1, 46)


def container_spec(extra: dict, api_version: str, **ours) -> ContainerSpec:
    """The server's container: the operator's extra_container_spec, ours over it, the security settings last (the
    same as on a single host); no new privileges where the engine can say so."""
    spec = ContainerSpec(**{**extra, **ours, **CONTAINER_SECURITY})
    if tuple(int(part) for part in api_version.split(".")[:2]) >= NO_NEW_PRIVILEGES_API:
        spec["Privileges"] = {**spec.get("Privileges", {}), "NoNewPrivileges": True}
    return spec


class PlasmaSwarmSpawner(PlasmaSpawner):
    """PlasmaSpawner across the nodes of a Docker Swarm. Each node's images are recorded as its labels by the
    environments role; a server runs only on a node with its environment's exact image, from that image's id (no
    node pulls anything at start), with its limits as reservations, and never restarts by itself: a server that
    ends, or whose node is lost, is reported stopped, as a container on a single host is.

    The hub runs on the host, outside the Swarm's overlay networks: each server publishes its port on its node
    (host mode, a random port) and the hub and its proxy reach it at the node's address, over JupyterHub's internal
    TLS (the hub role turns it on in a fleet): the server's certificate names every node, since it is made before
    Swarm places the server, and reaches the server as Swarm secrets."""

    object_type = "service"
    object_id_key = "ID"
    # As DockerSpawner's SwarmSpawner does it.
    service_name = SwarmSpawner.service_name
    service_id = SwarmSpawner.service_id
    get_task = SwarmSpawner.get_task
    stop_object = SwarmSpawner.stop_object
    remove_object = SwarmSpawner.remove_object

    # SwarmSpawner's extra_* settings (this class is a PlasmaSpawner, not a SwarmSpawner): keyword arguments of
    # docker-py's ContainerSpec, Resources, Placement, TaskTemplate and EndpointSpec, under what create_object sets.
    extra_container_spec = Dict(config=True, help="Keyword arguments for the service's ContainerSpec, under the security settings.")
    extra_resources_spec = Dict(config=True, help="Keyword arguments for the service's Resources, under the environment's limits.")
    extra_placement_spec = Dict(config=True, help="Keyword arguments for the service's Placement; its constraints are added to ours.")
    extra_task_spec = Dict(config=True, help="Keyword arguments for the service's TaskTemplate (a log driver, networks...).")
    extra_endpoint_spec = Dict(config=True, help="Keyword arguments for the service's EndpointSpec, under its mode and port.")

    image_label_prefix = Unicode(
        "plasma.image.",
        config=True,
        help="Node labels <prefix><image id hex>=true record which images a node holds (set by the environments role).",
    )
    placement_timeout = Float(
        60,
        config=True,
        help="How long a server may wait for a node that holds its image and has room for its reservations, "
        "before the user is told no node can take it now (seconds).",
    )
    _service_image = ""
    _service_environment: Environment | None = None
    _service_secrets: list[SecretReference] = []

    def memory_reserve(self) -> int:
        """No check of the hub host's memory: Swarm places a server only on a node with room for its reservations."""
        return 0

    # Nodes hold their images from the environments role; which ones is checked at every start.
    @default("pull_policy")
    def _default_pull_policy(self) -> str:
        return "skip"

    def image_label(self, image_id: str) -> str:
        return self.image_label_prefix + image_id.split(":", 1)[-1]

    async def _image_id(self, environment: Environment) -> str:
        """The image id the hub host holds (its copy is the reference), if at least one node that takes servers
        holds the same image."""
        image_id = await super()._image_id(environment)
        label = self.image_label(image_id)
        nodes = await self.docker("nodes")
        if not any(
            node["Spec"].get("Labels", {}).get(label) == "true" and node["Status"]["State"] == "ready" and node["Spec"].get("Availability") == "active"
            for node in nodes
        ):
            raise web.HTTPError(
                503,
                f"The environment {environment.display_name!r} is not available on any node of this server right now "
                f"(image {environment.image}); please tell an administrator.",
            )
        self._service_image, self._service_environment = image_id, environment
        return image_id

    async def create_certs(self) -> dict:
        nodes = await self.docker("nodes")
        self.ssl_alt_names = sorted({alt_name(node_address(node)) for node in nodes})
        return await super().create_certs()

    async def move_certs(self, paths: dict) -> dict:
        """The server's TLS files as Swarm secrets of its service: sent to its node encrypted, in memory there,
        readable by the user only. Replaces those of an earlier start."""
        account = host_account(self.user.name)
        await self.remove_secrets()
        self._service_secrets = []
        for key, filename in TLS_FILES.items():
            name = f"plasma-tls-{secrets.token_hex(8)}"
            created = await self.docker("create_secret", name=name, data=Path(paths[key]).read_bytes(), labels={SECRET_SERVICE_LABEL: self.object_name})
            self._service_secrets.append(SecretReference(created["ID"], name, filename=filename, uid=str(account.pw_uid), gid=str(account.pw_gid), mode=0o400))
        return {key: f"/run/secrets/{filename}" for key, filename in TLS_FILES.items()}

    async def remove_secrets(self) -> None:
        """The TLS secrets of this server's service; one still in use (by a stale service a start has yet to remove)
        stays, until the server stops."""
        try:
            found = await self.docker("secrets", filters={"label": f"{SECRET_SERVICE_LABEL}={self.object_name}"})
        except docker.errors.APIError as error:  # the server itself has stopped: not a reason to report otherwise
            self.log.warning("The secrets of %s could not be listed: %s", self.object_name, error)
            return
        for secret in found:
            try:
                await self.docker("remove_secret", secret["ID"])
            except docker.errors.APIError as error:
                self.log.warning("Secret %s of %s stays: %s", secret["Spec"]["Name"], self.object_name, error)

    async def stop(self, now: bool = False) -> None:
        """Stop the server, then remove its service's TLS secrets (not in remove_object: a start removes a stale
        service after it has made the new server's secrets)."""
        await super().stop(now)
        await self.remove_secrets()

    @property
    def service_mounts(self) -> list[Mount]:
        """The container's mounts on a single host: the home and the entrypoint, the shared data, group folders.
        Not DockerSpawner's volume for internal TLS files (it would be local to each node): secrets take its place."""
        certs_volume = self.format_volume_name(self.certs_volume_name, self) if self.internal_ssl else None
        binds = [
            Mount(target=bind["bind"], source=source, type="bind", read_only=bind.get("mode") == "ro" or bind.get("ro", False))
            for source, bind in self.volume_binds.items()
            if source != certs_volume
        ]
        return [*binds, *self.mount_binds]

    async def create_object(self):
        environment = self._service_environment
        container = container_spec(
            self.extra_container_spec,
            self.client.api_version,
            # The exact image the node was checked to hold; an id is never pulled.
            image=self._service_image,
            command=["/bin/sh", ENTRYPOINT_IN_CONTAINER],
            args=await self.get_command(),
            env=self.get_env(),
            user="0",  # only the entrypoint's first instant: it names the user, then drops to the user
            mounts=[*self.service_mounts, tmp_mount(environment)],
            secrets=self._service_secrets if self.internal_ssl else None,
        )
        placement = {**self.extra_placement_spec}
        placement["constraints"] = [
            f"node.labels.{self.image_label(self._service_image)} == true",
            *environment.constraints,
            *placement.get("constraints", []),
        ]
        task = TaskTemplate(
            **{
                **self.extra_task_spec,
                "container_spec": container,
                "resources": service_resources(environment, self.extra_resources_spec),
                # Never restarted by Swarm: a server that ends is reported stopped, as on a single host.
                "restart_policy": RestartPolicy(condition="none"),
                "placement": Placement(**placement),
            }
        )
        # dnsrr: no virtual IP (it needs IPVS); the port on the node that runs the task, none on the others.
        endpoint = EndpointSpec(**{**self.extra_endpoint_spec, "mode": "dnsrr", "ports": {None: (self.port, "tcp", "host")}})
        return await self.docker(
            "create_service",
            task,
            name=self.object_name,
            endpoint_spec=endpoint,
            labels={"org.jupyter.user": self.user.name, "org.jupyter.server": self.name or ""},
        )

    async def start_object(self) -> None:
        """Wait until the task runs. A task that ends first, or waits longer than placement_timeout for a node,
        is an error with Swarm's reason; one that the engine's secrets race kept from starting is tried again."""
        deadline = time.monotonic() + self.placement_timeout
        attempts = 1
        while True:
            task = await self.get_task()
            if task is None:  # the orchestrator has not made it yet, or the service is gone
                if await self.get_object() is None:
                    raise web.HTTPError(500, f"Your server's service {self.object_name} is gone; please try again.")
                if time.monotonic() > deadline:
                    raise web.HTTPError(503, "Swarm made no task for your server; please try again in a few minutes.")
                await asyncio.sleep(self.ready_poll_interval)
                continue
            status = task["Status"]
            state = status["State"]
            reason = status.get("Err") or status.get("Message") or state
            if state == "running":
                return
            if state in _ENDED and TRANSIENT_START_ERROR in reason and attempts < START_ATTEMPTS:
                self.log.warning("%s's server did not start (%s); creating its service again", self.user.name, reason)
                attempts += 1
                await self.remove_object()
                self.object_id = (await self.create_object())[self.object_id_key]
                continue
            if state in _ENDED:
                raise web.HTTPError(500, f"Your server stopped while starting: {reason}")
            if state == "pending" and time.monotonic() > deadline:
                raise web.HTTPError(
                    503,
                    f"No node can take your server right now ({reason}); please try again in a few minutes.",
                )
            await asyncio.sleep(self.ready_poll_interval)

    async def last_output(self, lines: int) -> str:
        def read() -> bytes:  # docker-py hands service logs over as a generator: read it off the event loop too
            return b"".join(self.client.service_logs(self.object_id, stdout=True, stderr=True, tail=lines))

        return (await asyncio.get_running_loop().run_in_executor(self.executor, read)).decode(errors="replace")

    async def get_ip_and_port(self) -> tuple[str, int]:
        task = await self.get_task()
        node = await self.docker("inspect_node", task["NodeID"])
        port = published_port(task, self.port)
        if port is None:
            raise web.HTTPError(500, f"Your server's port is not published on node {node['Description']['Hostname']}.")
        return node_address(node), port

    async def poll(self):
        """None while the task runs on a node that is up; otherwise the reason, and the hub reports the server
        stopped (a lost node included: its servers are gone with it)."""
        task = await self.get_task()
        if task is None:
            return 0
        state = task["Status"]["State"]
        if state in _STARTING:
            return None
        if state != "running":
            return f"task {state}: {task['Status'].get('Err') or task['Status'].get('Message', '')}"
        node = await self.docker("inspect_node", task["NodeID"])
        if node["Status"]["State"] != "ready":
            self.log.warning("%s's server ran on node %s, which is %s", self.user.name, node["Description"]["Hostname"], node["Status"]["State"])
            return f"node {node['Description']['Hostname']} is {node['Status']['State']}"
        return None
