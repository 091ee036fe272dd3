"""Environments per group: a course's environment is offered to its members only, the REST API refuses
it to others exactly as it refuses an unlisted image, and a membership given or taken by a re-run of
the users role applies at once, without restarting the hub."""

from __future__ import annotations

import html

import pytest

from tests.support.hub import UserServer
from tests.support.scenario import run_playbook, users_list_with

testinfra_hosts = ["ansible://all"]

COURSE_FOLDER = "localhost-5000-plasma-course-x-1.0"


def spawn_page(hub, username: str, password: str) -> str:
    session, _ = hub.login(username, password)
    page = session.get(f"{hub.base_url}/hub/spawn", timeout=30)
    assert page.status_code == 200
    return html.unescape(page.text)


def members(host) -> list[str]:
    return sorted(name for name in host.check_output("getent group course-x").split(":")[3].split(",") if name)


def hub_started_at(host) -> str:
    return host.check_output("systemctl show --property ActiveEnterTimestampMonotonic --value jupyterhub")


def test_a_member_sees_and_starts_the_course_environment(hub, host):
    assert "Course X" in spawn_page(hub, "first.last", "first-pass")
    student = UserServer(hub, "first.last", hub.token("first.last", "first-pass"))
    try:
        assert student.start("Course X").status_code in (201, 202)
        assert host.file(f"/home/first.last/{COURSE_FOLDER}").user == "first.last"
    finally:
        student.stop()


def test_a_non_member_neither_sees_it_nor_starts_it_through_the_api(hub):
    assert "Course X" not in spawn_page(hub, "bob", "bob-pass")
    bob = UserServer(hub, "bob", hub.token("bob", "bob-pass"))
    response = bob.start("Course X")
    assert response.status_code == 400
    # Word for word what an environment outside the list gets.
    assert response.json()["message"] == (
        "'Course X' is not one of this server's environments: Environment A, Environment B, Docker Stacks layout, repo2docker layout, Physics 101"
    )
    assert bob.model() is None


@pytest.mark.release_independent
def test_membership_given_and_taken_by_a_re_run_applies_without_restarting_the_hub(hub, host):
    started = hub_started_at(host)
    joined = run_playbook("plasma.platform.users", {"users_list": users_list_with("bob", groups=["course-x"])})
    assert joined.returncode == 0, joined.stdout + joined.stderr
    bob = UserServer(hub, "bob", hub.token("bob", "bob-pass"))
    try:
        assert members(host) == ["bob", "first.last"]
        assert "Course X" in spawn_page(hub, "bob", "bob-pass")
        assert bob.start("Course X").status_code in (201, 202)
    finally:
        bob.stop()
        left = run_playbook("plasma.platform.users", {"users_list": users_list_with("bob")})
    assert left.returncode == 0, left.stdout + left.stderr
    assert members(host) == ["first.last"]
    assert bob.start("Course X").status_code == 400
    assert hub_started_at(host) == started
