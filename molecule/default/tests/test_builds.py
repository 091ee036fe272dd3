"""An environment built from a Git repository (prepare.yml keeps it on the host, served over file:// as a Git
server's would be; its binder/Dockerfile starts from an image of the scenario's registry, since Docker Hub is out of
reach here): a user finds the repository's files in the environment's folder; a new commit is built by the next
run and none without one; a broken commit fails the run while users keep the image built before."""

from __future__ import annotations

import shlex

import pytest

from tests.support.scenario import changed_count, run_playbook

testinfra_hosts = ["ansible://all"]

ENVIRONMENT = "Physics 101"
IMAGE = "plasma-builds/physics"
WORK = "/root/physics"  # a clone of /srv/git/physics.git (prepare.yml), as the teacher's


def commit(host, files: dict[str, str], message: str) -> str:
    """A commit of the teacher's, pushed to the repository's main branch; its id."""
    writes = " && ".join(f"printf %s {shlex.quote(content)} > {shlex.quote(name)}" for name, content in files.items())
    host.run_expect([0], f"cd {WORK} && {writes} && git add -A && git -c user.name=Teacher -c user.email=t@example.org commit -q -m {shlex.quote(message)}")
    host.run_expect([0], f"cd {WORK} && git push -q origin HEAD:main")
    return host.check_output(f"git -C {WORK} rev-parse HEAD")


def server_image(host) -> str:
    return host.check_output("docker ps --filter name=^jupyter-bob --format '{{.Image}}'")


@pytest.fixture(scope="module")
def built(host):
    """The commit the converge built; main is put back on the last commit that built when the tests end."""
    first = host.check_output("git -C /srv/git/physics.git rev-parse main")
    good = {"commit": first}
    yield good
    host.run_expect([0], f"git -C /srv/git/physics.git update-ref refs/heads/main {good['commit']}")
    host.run_expect([0], f"cd {WORK} && git fetch -q origin && git reset -q --hard origin/main")


def test_the_converge_built_the_repository_s_commit_and_a_user_finds_its_files(host, bob, built):
    image = f"{IMAGE}:{built['commit'][:12]}"
    assert host.check_output(f"docker image inspect --format '{{{{index .Config.Labels \"org.plasma-platform.commit\"}}}}' {image}") == built["commit"]
    assert host.file(f"/var/log/plasma-platform/builds/plasma-builds-physics-{built['commit'][:12]}.log").contains("Successfully tagged")
    response = bob.start(ENVIRONMENT)
    assert response.status_code in (201, 202), response.text
    assert server_image(host) == image
    readme = host.file(f"/home/bob/plasma-builds-physics-{built['commit'][:12]}/README-physics.md")
    assert readme.exists and readme.user == "bob" and "Physics 101" in readme.content_string
    bob.stop()


def test_a_new_commit_is_built_by_the_next_run_and_no_commit_builds_nothing(host, bob, built):
    second = commit(host, {"lesson-2.md": "# Lesson 2: forces\n"}, "Lesson 2")
    run = run_playbook("plasma.platform.environments")
    assert run.returncode == 0, run.stdout + run.stderr
    built["commit"] = second
    assert host.run(f"docker image inspect {IMAGE}:{second[:12]}").rc == 0
    # The images part alone (the builds are in it): the converge's idempotence already checked a whole re-run.
    again = run_playbook("plasma.platform.environments", None, "--tags", "environments_images")
    assert again.returncode == 0 and changed_count(again.stdout) == 0, again.stdout

    assert bob.start(ENVIRONMENT).status_code in (201, 202)
    assert server_image(host) == f"{IMAGE}:{second[:12]}"
    assert host.file(f"/home/bob/plasma-builds-physics-{second[:12]}/lesson-2.md").exists
    bob.stop()


def test_a_broken_commit_fails_the_run_with_the_build_s_error_and_users_keep_the_last_image(host, bob, built):
    dockerfile = host.file(f"{WORK}/binder/Dockerfile").content_string
    broken = commit(host, {"binder/Dockerfile": dockerfile + "RUN echo 'E: Unable to locate package physics-sim' && false\n"}, "Add the simulator")
    run = run_playbook("plasma.platform.environments")  # the whole role: its spawner configuration is not reached
    assert run.returncode != 0
    said = " ".join((run.stdout + run.stderr).split())  # as the callback wraps it
    assert "1 build(s) failed; the images already built stay in service" in said and "physics-sim" in said, said
    log = host.file(f"/var/log/plasma-platform/builds/plasma-builds-physics-{broken[:12]}.log")
    assert "Unable to locate package physics-sim" in log.content_string
    assert host.run(f"docker image inspect {IMAGE}:{broken[:12]}").rc != 0

    assert bob.start(ENVIRONMENT).status_code in (201, 202)
    assert server_image(host) == f"{IMAGE}:{built['commit'][:12]}"
    bob.stop()
