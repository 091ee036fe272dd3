"""What an operator would check on a host converged with the docker role."""

import json
from pathlib import Path

import pytest

from tests.support.scenario import run_playbook

testinfra_hosts = ["ansible://all"]

SCENARIO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def docker_info(host) -> dict:
    return json.loads(host.check_output("docker info --format '{{json .}}'"))


def test_service_is_running_and_enabled(host):
    service = host.service("docker")
    assert service.is_running
    assert service.is_enabled


def test_daemon_json_is_applied(docker_info):
    assert docker_info["LiveRestoreEnabled"] is True
    assert docker_info["LoggingDriver"] == "json-file"


def test_operator_options_merge_over_defaults(host):
    daemon = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert daemon["log-opts"] == {"max-size": "20m", "max-file": "3"}
    assert daemon["default-address-pools"] == [{"base": "172.30.0.0/16", "size": 24}]


def test_inner_docker_uses_overlay2(docker_info):
    assert docker_info["Driver"] == "overlay2"


def test_python_sdk_reaches_the_engine(host):
    version = host.check_output("python3 -c 'import docker; print(docker.from_env().version()[\"Version\"])'")
    assert version.split(".")[0].isdigit()


def test_run_a_locally_built_image(host):
    """Build an image from the host's own /bin/sh and its libraries, then run it."""
    script = r"""
set -eu
ctx="$(mktemp -d)"
for f in /bin/sh $(ldd /bin/sh | grep -o '/[^ ]*'); do
  mkdir -p "$ctx/rootfs$(dirname "$f")"; cp -L "$f" "$ctx/rootfs$f"
done
printf 'FROM scratch\nCOPY rootfs/ /\nCMD ["/bin/sh", "-c", "echo hello from $0"]\n' > "$ctx/Dockerfile"
docker build -q -t plasma-verify/sh "$ctx" >/dev/null
docker run --rm plasma-verify/sh
docker rmi -f plasma-verify/sh >/dev/null
rm -rf "$ctx"
"""
    assert host.check_output("bash -c %s", script) == "hello from /bin/sh"


def test_upstream_repository_configuration():
    """Docker's repository is unreachable here: the playbook checks the sources file the role writes."""
    result = run_playbook(str(SCENARIO / "upstream_repository.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
