"""plasma.platform.environment_builds on this machine's Docker Engine, with repo2docker as the environments role pins
it: a Git repository made here (a bare one, reached over file:// as a remote would be), whose binder/Dockerfile starts
from a local test image (no registry outside is reachable: Docker Hub's bases are out of reach here)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from tests.support.registry import ROOT, Registry, docker, run_module

DOCKERFILE = """FROM plasma-env-a:test
COPY --chown=1000:1000 . /home/jovyan/course
"""


@pytest.fixture(scope="module")
def repo2docker(tmp_path_factory) -> str:
    """repo2docker in a virtualenv of its own, the version the environments role installs."""
    package = yaml.safe_load((ROOT / "roles/environments/defaults/main.yml").read_text())["environments_repo2docker_package"]
    venv = tmp_path_factory.mktemp("repo2docker")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin/pip"), "install", "-q", package], check=True)
    return str(venv / "bin/repo2docker")


class Repository:
    """A bare repository, and a working copy that commits and pushes to it."""

    def __init__(self, root: Path):
        self.bare, self.work = root / "course.git", root / "work"
        self.url = f"file://{self.bare}"
        self.git("init", "-q", "--bare", "-b", "main", str(self.bare), cwd=root)
        self.git("clone", "-q", self.url, str(self.work), cwd=root)

    def git(self, *args: str, cwd: Path | None = None) -> str:
        command = ["git", "-c", "user.name=Teacher", "-c", "user.email=teacher@example.org", *args]
        return subprocess.run(command, cwd=cwd or self.work, check=True, capture_output=True, text=True).stdout.strip()

    def commit(self, files: dict[str, str], message: str) -> str:
        for name, content in files.items():
            (self.work / name).parent.mkdir(parents=True, exist_ok=True)
            (self.work / name).write_text(content)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        self.git("push", "-q", "origin", "HEAD:main")
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def repository(tmp_path) -> Repository:
    return Repository(tmp_path)


@pytest.fixture
def image():
    name = f"plasma-test-built/course-{uuid.uuid4().hex[:8]}"
    yield name
    for tag in docker("images", "--format", "{{.Repository}}:{{.Tag}}", name).split():
        docker("rmi", "-f", tag)


def builds(repo2docker: str, tmp_path: Path, image: str, repository: Repository, check: bool = False, push: bool = False, **spec) -> dict:
    build = {"image": image, "repository": repository.url, **spec}
    args = {"builds": [build], "repo2docker": repo2docker, "log_dir": str(tmp_path / "logs"), "push": push}
    return run_module(args, check=check, diff=check, module="plasma.platform.environment_builds")


def in_image(reference: str, command: str) -> str:
    return docker("run", "--rm", "--entrypoint", "sh", reference, "-c", command)


def test_a_commit_is_built_once_and_a_new_commit_again(repo2docker, tmp_path, image, repository):
    first = repository.commit({"binder/Dockerfile": DOCKERFILE, "README.md": "# Physics 101\n"}, "course")
    would = builds(repo2docker, tmp_path, image, repository, check=True, ref="main")
    assert would["changed"] is True and would["builds"][0]["action"] == "would_build"
    assert would["builds"][0]["image"] == f"{image}:{first[:12]}" and not docker("images", "-q", image)
    assert would["diff"]["after"] == f"{image}:{first[:12]} ({repository.url} at {first})\n"  # what --check --diff shows

    built = builds(repo2docker, tmp_path, image, repository, ref="main")
    assert built["changed"] is True, built
    [result] = built["builds"]
    assert (result["action"], result["image"], result["commit"]) == ("built", f"{image}:{first[:12]}", first)
    assert in_image(result["image"], "cat /home/jovyan/course/README.md") == "# Physics 101"
    labels = yaml.safe_load(docker("image", "inspect", "--format", "{{json .Config.Labels}}", result["image"]))
    assert labels["org.plasma-platform.commit"] == first and labels["org.plasma-platform.repository"] == repository.url
    assert f"{repository.url} at {first}" in Path(result["log"]).read_text()

    again = builds(repo2docker, tmp_path, image, repository, ref="main")
    assert again["changed"] is False and again["builds"][0]["action"] == "present"

    second = repository.commit({"lesson-2.md": "Forces\n"}, "lesson 2")
    moved = builds(repo2docker, tmp_path, image, repository, ref="main")
    assert moved["changed"] is True and moved["builds"][0]["image"] == f"{image}:{second[:12]}"
    assert in_image(moved["builds"][0]["image"], "cat /home/jovyan/course/lesson-2.md") == "Forces"
    assert docker("images", "-q", f"{image}:{first[:12]}")  # the previous image stays


def test_a_tag_or_a_commit_is_built_from_exactly_that_commit(repo2docker, tmp_path, image, repository):
    first = repository.commit({"binder/Dockerfile": DOCKERFILE, "README.md": "v1\n"}, "one")
    repository.git("tag", "-a", "-m", "term one", "term-1")
    repository.git("push", "-q", "origin", "term-1")
    repository.commit({"README.md": "v2\n"}, "two")
    by_tag = builds(repo2docker, tmp_path, image, repository, ref="term-1")
    assert by_tag["builds"][0]["commit"] == first  # the annotated tag's commit, not the tag object
    assert in_image(by_tag["builds"][0]["image"], "cat /home/jovyan/course/README.md") == "v1"
    by_commit = builds(repo2docker, tmp_path, image, repository, ref=first)
    assert by_commit["changed"] is False and by_commit["builds"][0]["image"] == by_tag["builds"][0]["image"]


def test_a_broken_commit_fails_with_the_build_s_own_error_and_tags_nothing(repo2docker, tmp_path, image, repository):
    good = repository.commit({"binder/Dockerfile": DOCKERFILE}, "good")
    builds(repo2docker, tmp_path, image, repository, ref="main")
    broken = repository.commit({"binder/Dockerfile": DOCKERFILE + "RUN echo 'pip: no matching distribution for numpy==0.0.1' && false\n"}, "broken")
    failed = builds(repo2docker, tmp_path, image, repository, ref="main")
    assert failed["failed"] is True
    assert "no matching distribution for numpy==0.0.1" in failed["msg"] and "the images already built stay in service" in failed["msg"]
    assert failed["builds"][0]["action"] == "failed" and Path(failed["builds"][0]["log"]).exists()
    assert not docker("images", "-q", f"{image}:{broken[:12]}")
    assert docker("images", "-q", f"{image}:{good[:12]}")


def test_a_missing_ref_or_repository_is_named_and_a_password_never_shown(repo2docker, tmp_path, image, repository):
    repository.commit({"binder/Dockerfile": DOCKERFILE}, "course")
    missing = builds(repo2docker, tmp_path, image, repository, ref="no-such-branch")
    assert missing["failed"] is True and "has no branch, tag or ref 'no-such-branch'" in missing["msg"]
    args = {"builds": [{"image": image, "repository": "https://teacher:s3cret@127.0.0.1:9/course.git"}], "repo2docker": repo2docker}
    unreachable = run_module(args, module="plasma.platform.environment_builds")
    assert unreachable["failed"] is True and "https://127.0.0.1:9/course.git" in unreachable["msg"]
    assert "s3cret" not in str(unreachable)


def test_a_tagged_image_name_is_refused_before_anything_is_fetched(repo2docker, tmp_path, image, repository):
    refused = builds(repo2docker, tmp_path, f"{image}:1.0", repository)
    assert refused["failed"] is True and "tag is its commit" in refused["msg"]
    invalid = builds(repo2docker, tmp_path, "Plasma Builds/physics", repository)
    assert invalid["failed"] is True and "image 'Plasma Builds/physics' is not a valid name" in invalid["msg"]


def test_pushed_to_the_registry_its_name_starts_with_once(repo2docker, tmp_path, repository):
    """For a fleet's nodes, which pull the image from there; a re-run finds it there and sends nothing."""
    repository.commit({"binder/Dockerfile": DOCKERFILE, "README.md": "# Physics 101\n"}, "course")
    registry = Registry().start()
    image = f"{registry.address}/builds/physics"
    try:
        first = builds(repo2docker, tmp_path, image, repository, push=True)
        assert first["changed"] is True and first["builds"][0]["pushed"] is True, first
        tag = first["builds"][0]["image"].rpartition(":")[2]
        assert tag in docker(
            "run",
            "--rm",
            "--network",
            "host",
            "--entrypoint",
            "python3",
            "plasma-env-a:test",
            "-c",
            f"import urllib.request; print(urllib.request.urlopen('http://{registry.address}/v2/builds/physics/tags/list').read().decode())",
        )
        again = builds(repo2docker, tmp_path, image, repository, push=True)
        assert again["changed"] is False and again["builds"][0]["pushed"] is False, again
    finally:
        for tag in docker("images", "--format", "{{.Repository}}:{{.Tag}}", image).split():
            docker("rmi", "-f", tag)
        registry.stop()
