"""plasma.platform.environment_images against the host's Docker and a real registry."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support.registry import (
    Registry,
    docker,
    image_exists,
    push_image,
    run_module,
    unique_repository,
)


@pytest.fixture(scope="module")
def registry():
    registry = Registry().start()
    yield registry
    registry.stop()


@pytest.fixture
def images(registry, tmp_path):
    """Three images pushed to the registry, absent locally; removed afterwards."""
    references = [f"{unique_repository(registry)}:v1" for _ in range(3)]
    digests = {reference: push_image(reference) for reference in references}
    yield digests
    for reference in references:
        subprocess.run(["docker", "rmi", "-f", reference], capture_output=True)


def by_name(result: dict) -> dict:
    return {image["name"]: image for image in result["images"]}


def test_cold_then_warm_then_latest(images, tmp_path):
    args = {"images": list(images), "state_file": str(tmp_path / "state.json")}

    cold = run_module(args)
    assert cold["changed"] is True, cold
    for reference, digest in images.items():
        image = by_name(cold)[reference]
        assert image["action"] == "pulled"
        assert image["digest"] == digest
        assert image["id"].startswith("sha256:")
        assert image_exists(reference)

    warm = run_module(args)
    assert warm["changed"] is False, warm
    assert {image["action"] for image in warm["images"]} == {"present"}
    assert {image["attempts"] for image in warm["images"]} == {0}  # the registry was not asked

    latest = run_module({**args, "policy": "latest"})
    assert latest["changed"] is False, latest
    assert {image["action"] for image in latest["images"]} == {"present"}
    assert {image["attempts"] for image in latest["images"]} == {1}  # one digest request each


def test_a_tag_pushed_anew_is_updated(images, tmp_path):
    args = {"images": list(images), "policy": "latest", "state_file": str(tmp_path / "state.json")}
    run_module(args)
    moved = next(iter(images))
    old_id = docker("image", "inspect", "--format", "{{.Id}}", moved)
    new_digest = push_image(moved)  # removes the local tag: bring the old image back under it
    docker("tag", old_id, moved)

    check = run_module(args, check=True)
    assert by_name(check)[moved]["action"] == "would_update"
    assert docker("image", "inspect", "--format", "{{.Id}}", moved) == old_id

    result = run_module(args, diff=True)
    assert result["changed"] is True
    assert by_name(result)[moved]["action"] == "updated"
    assert by_name(result)[moved]["digest"] == new_digest
    assert docker("image", "inspect", "--format", "{{.Id}}", moved) != old_id
    assert [by_name(result)[r]["action"] for r in images if r != moved] == ["present", "present"]
    assert result["diff"]["after"][moved] == new_digest
    docker("rmi", old_id)  # the image the tag pointed at before


def test_check_mode_pulls_nothing(images, tmp_path):
    result = run_module({"images": list(images), "state_file": str(tmp_path / "state.json")}, check=True, diff=True)
    assert result["changed"] is True
    assert {image["action"] for image in result["images"]} == {"would_pull"}
    assert not any(image_exists(reference) for reference in images)
    assert set(result["diff"]["before"].values()) == {"absent"}
    assert not (tmp_path / "state.json").exists()


def test_check_mode_on_a_host_without_an_engine_yet_reports_every_image_as_would_pull(tmp_path):
    """A fresh host in check mode: the docker role has only planned the engine."""
    images = ["localhost:5000/plasma/env-a:1.0", "example.org/lab/r-env:4.4"]
    arguments = {"images": images, "docker_host": f"unix://{tmp_path}/no-engine.sock", "state_file": str(tmp_path / "s.json")}
    checked = run_module(arguments, check=True)
    assert checked.get("failed") is not True, checked
    assert checked["changed"] is True
    assert [(image["name"], image["action"]) for image in checked["images"]] == [(name, "would_pull") for name in images]
    assert any("every image is reported as would_pull" in warning for warning in checked.get("warnings", []))
    for_real = run_module(arguments)
    assert for_real["failed"] is True and "cannot talk to the Docker Engine" in for_real["msg"]


def test_invalid_references_fail_before_any_pull(images, tmp_path):
    valid = next(iter(images))
    result = run_module({"images": [valid, "foo bar", "Bad/Name:1"], "state_file": str(tmp_path / "s.json")})
    assert result["failed"] is True
    assert "2 invalid image(s), nothing was pulled" in result["msg"]
    assert "'foo bar'" in result["msg"] and "'Bad/Name:1'" in result["msg"]
    assert not image_exists(valid)


def test_a_stopped_registry_fails_its_images_after_retries_and_reports_the_others(images, tmp_path):
    down = Registry().start()
    lost = f"{unique_repository(down)}:v1"
    push_image(lost)
    down.stop()
    args = {"images": [*images, lost], "retries": 2, "retry_delay": 0.2, "state_file": str(tmp_path / "state.json")}

    result = run_module(args)
    assert result["failed"] is True
    assert result["msg"].startswith("1 of 4 image(s) failed: " + lost + ": ")
    assert by_name(result)[lost]["action"] == "failed"
    assert by_name(result)[lost]["attempts"] == 3
    assert "connection refused" in by_name(result)[lost]["error"]
    assert [by_name(result)[r]["action"] for r in images] == ["pulled"] * 3


def test_prune_removes_only_unused_images_it_managed(images, tmp_path):
    first, second, third = images
    state = str(tmp_path / "state.json")
    run_module({"images": [first, second, third], "state_file": state})
    stranger = f"{first.rsplit(':', 1)[0]}:not-managed"
    docker("tag", first, stranger)
    container = docker("create", third, "/nonexistent")
    try:
        result = run_module({"images": [first], "prune": True, "state_file": state})
        actions = by_name(result)
        assert actions[first]["action"] == "present"
        assert actions[second]["action"] == "removed"
        assert actions[third]["action"] == "kept_in_use"
        assert stranger not in actions
        assert not image_exists(second) and image_exists(third) and image_exists(stranger)

        again = run_module({"images": [first], "prune": True, "state_file": state})
        assert by_name(again)[third]["action"] == "kept_in_use"
        assert again["changed"] is False
    finally:
        docker("rm", container)
        docker("rmi", stranger)


# Built on this machine by scripts/build-test-images: a Jupyter image laid out as the real families are, and the bare
# Debian its test hosts start from (no notebook server at all).
JUPYTER_IMAGE = "plasma-env-a:test"
BARE_IMAGE = "plasma-base:bookworm"


def test_an_image_that_can_serve_is_checked_once_and_one_that_cannot_is_refused_with_the_reason(tmp_path):
    state_file = tmp_path / "state.json"
    args = {"images": [JUPYTER_IMAGE, BARE_IMAGE], "check_server": True, "state_file": str(state_file)}
    before = set(docker("ps", "-aq").split())

    first = run_module(args)
    assert first["failed"] is True
    jupyter, bare = by_name(first)[JUPYTER_IMAGE], by_name(first)[BARE_IMAGE]
    assert jupyter["action"] == "present" and jupyter["server"].split(".")[0].isdigit(), jupyter
    assert bare["action"] == "failed"
    assert bare["error"].startswith("no jupyterhub-singleuser on the image's PATH"), bare
    assert f"{BARE_IMAGE}: no jupyterhub-singleuser on the image's PATH" in first["msg"]
    assert set(docker("ps", "-aq").split()) == before  # the check's containers are gone

    # Known to pass: not started again (the record names its id), and the version is still reported.
    state = json.loads(state_file.read_text())
    assert state["checked"] == {jupyter["id"]: jupyter["server"]}
    since = docker("system", "info", "--format", "{{.SystemTime}}")
    again = run_module({**args, "images": [JUPYTER_IMAGE]})
    assert again["changed"] is False and by_name(again)[JUPYTER_IMAGE]["server"] == jupyter["server"], again
    until = docker("system", "info", "--format", "{{.SystemTime}}")
    assert docker("events", "--since", since, "--until", until, "--filter", "type=container", "--filter", "event=create") == ""


def test_a_disk_limit_the_engine_cannot_enforce_fails_the_image_saying_what_would(tmp_path):
    # This machine's engine keeps its containers with overlay2 on ext4, which cannot limit a container's disk:
    # the image that would get a limit fails, naming the engines that can; the same image without one passes.
    state_file = tmp_path / "state.json"
    args = {"images": [JUPYTER_IMAGE], "check_server": True, "state_file": str(state_file)}
    limited = run_module({**args, "disk_limits": {JUPYTER_IMAGE: "4G"}})
    assert limited["failed"] is True
    error = by_name(limited)[JUPYTER_IMAGE]["error"]
    assert error.startswith("the Docker Engine cannot limit a container's disk here (--storage-opt is supported only"), error
    assert "btrfs or zfs storage driver, or overlay2 on XFS mounted with pquota" in error
    assert not state_file.exists() or json.loads(state_file.read_text())["checked"] == {}

    unlimited = run_module({**args, "disk_limits": {JUPYTER_IMAGE: "0"}})
    assert "failed" not in unlimited or unlimited["failed"] is False, unlimited

    malformed = run_module({**args, "disk_limits": {JUPYTER_IMAGE: "4 GB"}})
    assert malformed["failed"] is True and malformed["msg"].startswith("invalid disk_limits, nothing was pulled"), malformed
