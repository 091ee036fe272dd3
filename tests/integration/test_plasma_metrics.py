"""plasma-metrics (the monitoring role's) against this machine's Docker engine: a container as the hub starts a user's
server (JUPYTERHUB_USER, JUPYTERHUB_SERVER_NAME, an environment's image) is measured under that user, server and
environment, its CPU seconds rising while it works; an environment's image present or not; a folder's usage; a
certificate's expiry. (On a host, in the default scenario: tests/test_monitoring.py.)"""

import json
import re
import subprocess
import time

import pytest

SCRIPT = "roles/monitoring/files/plasma-metrics"
IMAGE = "plasma-env-a:test"  # built by scripts/build-test-images


def sh(command: str) -> str:
    return subprocess.run(command, shell=True, capture_output=True, text=True, check=True).stdout


def samples(text: str, name: str) -> dict[str, float]:
    """{labels: value} of one metric in Prometheus' text format."""
    return {match[1]: float(match[2]) for match in re.finditer(rf"^{name}\{{(.*)\}} (\S+)$", text, re.M)}


@pytest.fixture(params=["by name", "by ID"])
def server(request):
    """A user's server as the hub starts it: the user's environment, a loop that uses the CPU. Its image named as a
    single host's spawner names it, or by ID, as a fleet's Swarm task does."""
    name = f"plasma-test-metrics-{time.time_ns()}"
    image = IMAGE if request.param == "by name" else sh(f"docker image inspect --format '{{{{.Id}}}}' {IMAGE}").strip()
    sh(f"docker run -d --name {name} -e JUPYTERHUB_USER=first.last -e JUPYTERHUB_SERVER_NAME=lab {image} python3 -c 'while True: pass'")
    yield name
    sh(f"docker rm -f {name}")


def measure(tmp_path, settings: dict) -> str:
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    subprocess.run(["python3", SCRIPT, "--settings", str(tmp_path / "settings.json"), "--output", str(tmp_path)], check=True)
    return (tmp_path / "plasma.prom").read_text()


def test_a_user_server_is_measured_under_its_user_server_and_environment(tmp_path, server):
    settings = {"environments": [{"image": IMAGE, "display_name": "Environment A"}, {"image": "plasma-test/absent:1", "display_name": "Gone"}]}
    first = samples(measure(tmp_path, settings), "plasma_server_cpu_seconds_total")
    labels = 'environment="Environment A",server="lab",user="first.last"'
    assert labels in first, first
    # A busy loop: up to a CPU second a second, fewer on a loaded machine.
    deadline = time.monotonic() + 30
    while samples(measure(tmp_path, settings), "plasma_server_cpu_seconds_total")[labels] < first[labels] + 1:
        assert time.monotonic() < deadline, "the busy server's CPU seconds did not rise"
        time.sleep(1)
    text = (tmp_path / "plasma.prom").read_text()
    assert samples(text, "plasma_server_memory_bytes")[labels] > 0
    started = samples(text, "plasma_server_start_time_seconds")[labels]
    assert time.time() - 60 < started <= time.time()
    present = samples(text, "plasma_environment_image_present")
    assert present == {f'environment="Environment A",image="{IMAGE}"': 1, 'environment="Gone",image="plasma-test/absent:1"': 0}
    assert "# TYPE plasma_server_cpu_seconds_total counter" in text
    # Every part read (no backups on this machine: none reported).
    assert set(samples(text, "plasma_metrics_errors").values()) == {0}
    assert "plasma_backup_" not in text


def test_a_server_of_an_environment_built_from_git_is_measured_under_its_name(tmp_path):
    """A built environment's image is a name whose every tag is a build (its commit): its servers run one of them."""
    name = f"plasma-test-built/physics-{time.time_ns()}"
    container = f"plasma-test-metrics-{time.time_ns()}"
    settings = {"environments": [{"image": name, "display_name": "Physics 101", "built": True}]}
    assert samples(measure(tmp_path, settings), "plasma_environment_image_present") == {f'environment="Physics 101",image="{name}"': 0}
    sh(f"docker tag {IMAGE} {name}:0a1b2c3d4e5f")
    try:
        sh(f"docker run -d --name {container} -e JUPYTERHUB_USER=bob {name}:0a1b2c3d4e5f sleep 60")
        text = measure(tmp_path, settings)
        assert samples(text, "plasma_environment_image_present") == {f'environment="Physics 101",image="{name}"': 1}
        assert 'environment="Physics 101",server="",user="bob"' in samples(text, "plasma_server_memory_bytes")
    finally:
        sh(f"docker rm -f {container}; docker rmi {name}:0a1b2c3d4e5f")


def test_folders_and_the_certificate(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "work.bin").write_bytes(b"x" * 300_000)
    sh(f"openssl req -x509 -newkey rsa:2048 -nodes -days 10 -subj /CN=hub.plasma.test -keyout {tmp_path}/key.pem -out {tmp_path}/cert.pem 2>/dev/null")
    settings = {"environments": [], "folders": [{"kind": "home", "name": "first.last", "path": str(home)}], "certificate": str(tmp_path / "cert.pem")}
    text = measure(tmp_path, settings)
    used = samples(text, "plasma_folder_used_bytes")['kind="home",name="first.last"']
    assert 300_000 <= used < 400_000
    expiry = samples(text, "plasma_certificate_expiry_timestamp_seconds")[f'path="{tmp_path}/cert.pem"']
    assert abs(expiry - (time.time() + 10 * 86400)) < 3600


def test_what_cannot_be_read_is_counted_not_guessed(tmp_path):
    text = measure(tmp_path, {"certificate": str(tmp_path / "missing.pem")})
    assert samples(text, "plasma_metrics_errors")['part="certificate"'] == 1
    assert "plasma_certificate_expiry_timestamp_seconds" not in text


def test_a_home_s_links_and_odd_names_count_for_nothing_beyond_it(tmp_path):
    """As the attacker whose home root measures: symbolic links to the whole machine and to another user's home, and a
    file named like a metric line, change neither the usage reported for the home nor the lines written."""
    home, other = tmp_path / "home", tmp_path / "other"
    home.mkdir()
    other.mkdir()
    (other / "theirs.bin").write_bytes(b"x" * 2_000_000)
    (home / "mine.bin").write_bytes(b"x" * 100_000)
    (home / "everything").symlink_to("/")
    (home / "peer").symlink_to(other)
    (home / 'x"} 1\nplasma_folder_used_bytes{kind="home",name="root"} 0\n').write_text("")
    settings = {"environments": [], "folders": [{"kind": "home", "name": "mallory", "path": str(home)}], "certificate": ""}
    text = measure(tmp_path, settings)
    assert samples(text, "plasma_folder_used_bytes") == {'kind="home",name="mallory"': pytest.approx(100_000, abs=50_000)}, text
