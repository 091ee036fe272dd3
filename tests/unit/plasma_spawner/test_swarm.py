"""PlasmaSwarmSpawner's reading of Swarm's answers: the node address the hub reaches a server at, and
where its port is. Starting, polling and losing servers are tested on a real Swarm: molecule/fleet."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from plasma_spawner.swarm import alt_name, node_address, published_port


def node(state: str = "ready", addr: str = "10.0.0.12", manager_addr: str | None = None) -> dict:
    node = {"ID": "n1", "Description": {"Hostname": "node1"}, "Status": {"State": state, "Addr": addr}}
    if manager_addr:
        node["ManagerStatus"] = {"Addr": manager_addr, "Leader": True}
    return node


def task(state: str = "running", ports: list | None = None) -> dict:
    return {"NodeID": "n1", "Status": {"State": state, "Message": state, "PortStatus": {"Ports": ports or []}}}


def test_a_node_is_reached_at_its_address_and_a_manager_reporting_any_address_at_its_manager_address():
    assert node_address(node(addr="10.0.0.12")) == "10.0.0.12"
    assert node_address(node(addr="0.0.0.0", manager_addr="10.0.0.2:2377")) == "10.0.0.2"


def test_the_port_published_on_the_node_for_the_servers_port():
    ports = [
        {"Protocol": "tcp", "TargetPort": 22, "PublishedPort": 30022, "PublishMode": "host"},
        {"Protocol": "tcp", "TargetPort": 8888, "PublishedPort": 31234, "PublishMode": "host"},
    ]
    assert published_port(task(ports=ports), 8888) == 31234
    assert published_port(task(state="starting"), 8888) is None


def test_a_service_gets_the_environment_s_limits_reserved_and_its_process_limit():
    from plasma_spawner.environments import Environment
    from plasma_spawner.swarm import service_resources, tmp_mount

    environment = Environment.from_config({"display_name": "A", "image": "a:1", "folder": "a-1", "cpu_limit": 1}, {"mem_limit": "1G", "pids_limit": 512})
    assert service_resources(environment) == {
        "Limits": {"NanoCPUs": 1_000_000_000, "MemoryBytes": 1024**3, "Pids": 512},
        "Reservations": {"NanoCPUs": 1_000_000_000, "MemoryBytes": 1024**3},
    }
    assert tmp_mount(environment)["TmpfsOptions"] == {"SizeBytes": 1024**3, "Mode": 0o1777}


def test_a_certificate_names_ip_addresses_as_ip_and_anything_else_as_dns():
    assert alt_name("10.0.3.7") == "IP:10.0.3.7"
    assert alt_name("fd00::7") == "IP:fd00::7"
    assert alt_name("node-1.example.org") == "DNS:node-1.example.org"


def test_a_service_s_container_has_the_single_host_s_security_settings_whatever_the_operator_adds():
    from plasma_spawner.spawner import host_config
    from plasma_spawner.swarm import container_spec

    extra = {"cap_add": ["SYS_ADMIN"], "init": False, "hostname": "lab", "sysctls": {}}
    spec = container_spec(extra, "1.41", image="sha256:abc", user="0")
    assert spec["Image"] == "sha256:abc" and spec["Hostname"] == "lab"  # the operator's extra_container_spec counts
    single_host = host_config({}, environment_a())
    assert spec["Init"] is single_host["init"] is True
    assert spec["CapabilityDrop"] == single_host["cap_drop"] == ["ALL"]
    assert sorted(spec["CapabilityAdd"]) == sorted(single_host["cap_add"]) == ["DAC_READ_SEARCH", "SETGID", "SETPCAP", "SETUID"]
    assert spec["Sysctls"] == single_host["sysctls"] == {"net.ipv4.ip_unprivileged_port_start": "1024"}
    assert "Privileges" not in spec  # Docker before 27 has no NoNewPrivileges for services: the entrypoint's setpriv does it
    assert container_spec({}, "1.46", image="a")["Privileges"] == {"NoNewPrivileges": True}


def test_a_service_keeps_its_limits_over_the_operator_s_extra_resources_spec():
    from plasma_spawner.swarm import service_resources

    resources = service_resources(environment_a(), {"mem_limit": 1, "generic_resources": {"gpu": 1}})
    assert resources["Limits"]["MemoryBytes"] == 1024**3
    assert resources["Reservations"]["GenericResources"] == [{"DiscreteResourceSpec": {"Kind": "gpu", "Value": 1}}]


def environment_a():
    from plasma_spawner.environments import Environment

    return Environment.from_config({"display_name": "A", "image": "a:1", "folder": "a-1", "cpu_limit": 1}, {"mem_limit": "1G", "pids_limit": 512})


def test_a_service_is_created_with_the_operator_s_extra_specs_under_ours(monkeypatch):
    from traitlets.config import Config

    from plasma_spawner.swarm import PlasmaSwarmSpawner

    config = Config()
    config.PlasmaSwarmSpawner.extra_container_spec = {"hostname": "lab", "cap_add": ["SYS_ADMIN"]}
    config.PlasmaSwarmSpawner.extra_placement_spec = {"constraints": ["node.role == worker"]}
    config.PlasmaSwarmSpawner.extra_task_spec = {"log_driver": {"Name": "journald"}}
    config.PlasmaSwarmSpawner.extra_resources_spec = {"generic_resources": {"gpu": 1}}
    config.PlasmaSwarmSpawner.extra_endpoint_spec = {"mode": "vip"}
    user = SimpleNamespace(name="bob", escaped_name="bob", url="/user/bob/", id=1, orm_user=None, server=None, spawners={})
    server = PlasmaSwarmSpawner(config=config, user=user)
    image = "sha256:" + "a" * 64
    server._service_environment, server._service_image, server._service_secrets = environment_a(), image, []
    monkeypatch.setattr(PlasmaSwarmSpawner, "client", SimpleNamespace(api_version="1.41"))
    monkeypatch.setattr(PlasmaSwarmSpawner, "service_mounts", [])

    async def command() -> list[str]:
        return ["jupyterhub-singleuser"]

    calls = []

    async def docker(method, *args, **kwargs):
        calls.append((method, args, kwargs))
        return {"ID": "service-1"}

    server.get_command, server.get_env, server.docker = command, dict, docker
    asyncio.run(server.create_object())

    [(method, (task,), options)] = calls
    assert method == "create_service"
    container = task["ContainerSpec"]
    assert container["Hostname"] == "lab" and container["Image"] == image
    assert sorted(container["CapabilityAdd"]) == ["DAC_READ_SEARCH", "SETGID", "SETPCAP", "SETUID"]
    assert task["Placement"]["Constraints"] == [f"node.labels.{server.image_label(image)} == true", "node.role == worker"]
    assert task["LogDriver"] == {"Name": "journald"}
    assert task["RestartPolicy"]["Condition"] == "none"
    assert task["Resources"]["Limits"]["MemoryBytes"] == 1024**3
    assert options["endpoint_spec"]["Mode"] == "dnsrr"  # the hub reaches the server at its node's port, whatever asked


BUSY = (
    "starting container failed: unable to remount dir as readonly: "
    "mount tmpfs:/var/lib/docker/containers/1/mounts/secrets, flags: 0x21, data: uid=0,gid=0: device or resource busy"
)


def starting_server(tasks: list[dict]):
    """A server whose service's tasks, one per service made, end as given; what start_object did to its service."""
    from plasma_spawner.swarm import PlasmaSwarmSpawner

    user = SimpleNamespace(name="bob", escaped_name="bob", url="/user/bob/", id=1, orm_user=None, server=None, spawners={})
    server = PlasmaSwarmSpawner(user=user)
    server.ready_poll_interval = 0
    server.object_id, made = "service-1", []

    async def get_task():
        return tasks[len(made) // 2]

    async def remove_object():
        made.append(("removed", server.object_id))

    async def create_object():
        made.append(("created", f"service-{len(made) // 2 + 2}"))
        return {"ID": made[-1][1]}

    server.get_task, server.remove_object, server.create_object = get_task, remove_object, create_object
    return server, made


def failed(error: str) -> dict:
    return {"NodeID": "n1", "Status": {"State": "failed", "Err": error, "Message": "starting"}}


def test_a_task_the_engine_s_secrets_race_kept_from_starting_is_started_again_in_a_new_service():
    server, made = starting_server([failed(BUSY), task("running")])
    asyncio.run(server.start_object())
    assert made == [("removed", "service-1"), ("created", "service-2")]
    assert server.object_id == "service-2"


def test_the_race_is_tried_three_times_then_the_user_reads_the_engine_s_error():
    from tornado import web

    server, made = starting_server([failed(BUSY)] * 3)
    with pytest.raises(web.HTTPError, match="device or resource busy") as error:
        asyncio.run(server.start_object())
    assert error.value.status_code == 500
    assert [action for action, _ in made] == ["removed", "created", "removed", "created"]


def test_any_other_failure_is_not_tried_again():
    from tornado import web

    server, made = starting_server([failed('error while mounting volume "/home/bob": no such file or directory')])
    with pytest.raises(web.HTTPError, match="no such file or directory"):
        asyncio.run(server.start_object())
    assert made == []
