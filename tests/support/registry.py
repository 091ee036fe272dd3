"""Real parts for tests and benchmarks on this machine: Debian's docker-registry and the host's Docker."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The ansible-playbook of the Python running this (.venv), whether or not .venv/bin is on PATH.
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Registry:
    """A docker-registry process on 127.0.0.1 (Docker trusts loopback registries without TLS)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.address = f"localhost:{self.port}"
        self.storage = tempfile.mkdtemp(prefix="plasma-registry-")
        self.process: subprocess.Popen | None = None

    def start(self) -> Registry:
        config = Path(self.storage) / "config.yml"
        config.write_text(
            json.dumps(
                {
                    "version": 0.1,
                    "log": {"level": "warn"},
                    "storage": {"filesystem": {"rootdirectory": f"{self.storage}/data"}, "delete": {"enabled": True}},
                    "http": {"addr": f"127.0.0.1:{self.port}"},
                }
            )
        )
        self.process = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("docker-registry did not start")

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None
        shutil.rmtree(self.storage, ignore_errors=True)


def docker(*args: str, stdin: bytes | None = None) -> str:
    result = subprocess.run(["docker", *args], input=stdin, capture_output=True, check=True)
    return result.stdout.decode().strip()


def push_image(reference: str, size_mb: int = 1, layers: int = 1) -> str:
    """Make an image of `layers` layers of random bytes (distinct from every other), size_mb in all,
    push it, remove it locally, and return its registry digest."""
    with tempfile.TemporaryDirectory() as tmp:
        for number in range(layers):
            Path(tmp, f"payload-{number}").write_bytes(os.urandom(size_mb * 1024 * 1024 // layers))
        Path(tmp, "Dockerfile").write_text("FROM scratch\n" + "".join(f"COPY payload-{n} /\n" for n in range(layers)))
        docker("build", "--quiet", "--tag", reference, tmp)
    output = docker("push", reference)
    docker("rmi", reference)
    return "sha256:" + output.rsplit("sha256:", 1)[1].split()[0]


def image_exists(reference: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", reference], capture_output=True).returncode == 0


def unique_repository(registry: Registry, prefix: str = "env") -> str:
    return f"{registry.address}/plasma-test/{prefix}-{uuid.uuid4().hex[:8]}"


def run_module(args: dict, check: bool = False, diff: bool = False, module: str = "plasma.platform.environment_images", host: str | None = None) -> dict:
    """Run one of the collection's modules on this machine, or in the container named host, and return its result."""
    with tempfile.TemporaryDirectory() as tmp:
        playbook = Path(tmp, "play.yml")
        playbook.write_text(
            json.dumps(
                [
                    {
                        "hosts": "all",
                        "gather_facts": False,
                        "tasks": [
                            {module: args, "register": "result", "ignore_errors": True},
                            {
                                "ansible.builtin.copy": {"content": "{{ result | to_json }}", "dest": f"{tmp}/result.json"},
                                "delegate_to": "localhost",
                                "check_mode": False,
                                "diff": False,
                            },
                        ],
                    }
                ]
            )
        )
        if host:
            command = [ANSIBLE_PLAYBOOK, "-i", f"{host},", "-c", "community.docker.docker", "-e", "ansible_python_interpreter=/usr/bin/python3"]
        else:
            command = [ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}"]
        command += ["--check"] * check + ["--diff"] * diff + [str(playbook)]
        run = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".cache" / "collections")})
        result_file = Path(tmp, "result.json")
        if not result_file.exists():
            raise AssertionError(run.stdout + run.stderr)
        return json.loads(result_file.read_text())
