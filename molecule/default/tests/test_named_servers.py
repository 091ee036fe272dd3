"""Several environments at once: a user runs named servers side by side, each in its own container
and environment folder as the user, up to environments_servers_per_user (3), never two in the same
environment; stopping one leaves the others running."""

from __future__ import annotations

import html
import re
import threading
import time
from urllib.parse import urljoin

import pytest

from tests.support.hub import UserServer
from tests.support.spawn_form import Cards

testinfra_hosts = ["ansible://all"]
pytestmark = pytest.mark.release_independent

FOLDERS = {"a": "localhost-5000-plasma-env-a-1.0", "b": "localhost-5000-plasma-env-b-1.0"}
ENVIRONMENTS = {"a": "Environment A", "b": "Environment B"}


@pytest.fixture(scope="module")
def bobs(hub):
    token = hub.token("bob", "bob-pass")
    servers = {name: UserServer(hub, "bob", token, server_name=name) for name in ("a", "b", "c", "d")}
    servers[""] = UserServer(hub, "bob", token)
    for server in servers.values():
        server.stop()
    answers = {}
    starting = [threading.Thread(target=lambda name=name: answers.__setitem__(name, servers[name].start(ENVIRONMENTS[name]))) for name in ENVIRONMENTS]
    for thread in starting:
        thread.start()
    for thread in starting:
        thread.join(timeout=300)
    assert sorted(answers) == ["a", "b"], answers
    assert {response.status_code for response in answers.values()} <= {201, 202}, {name: response.text for name, response in answers.items()}
    yield servers
    for server in servers.values():
        server.stop()


def test_two_environments_run_at_once_each_in_its_own_container_as_the_user(host, bobs):
    uid = host.user("bob").uid
    for name in ENVIRONMENTS:
        assert bobs[name].contents("").status_code == 200
        assert host.docker(f"jupyter-bob--{name}").is_running
        # The server's process belongs to bob's uid (its folder is checked by the next test).
        assert host.run(f"docker exec -u {uid} jupyter-bob--{name} pgrep -u {uid} -f jupyterhub-singleuser").rc == 0


def test_each_server_writes_into_its_own_environment_folder(host, bobs):
    for name in ENVIRONMENTS:
        assert bobs[name].save("which-server.txt", f"server {name}\n").status_code in (200, 201)
    for name, folder in FOLDERS.items():
        saved = host.file(f"/home/bob/{folder}/which-server.txt")
        assert saved.content_string == f"server {name}\n" and saved.user == "bob"


def test_the_hub_home_page_lists_the_servers(hub, bobs):
    session, _ = hub.login("bob", "bob-pass")
    page = session.get(f"{hub.base_url}/hub/home", timeout=30).text
    assert 'data-server-name="a"' in page and 'data-server-name="b"' in page


def test_a_named_server_s_spawn_page_offers_the_cards_and_its_form_starts_the_one_chosen(hub, host, bobs):
    session, _ = hub.login("bob", "bob-pass")
    page = session.get(f"{hub.base_url}/hub/spawn/bob/c", timeout=30)
    cards = Cards(page.text).buttons
    assert [card["value"] for card in cards][:4] == ["Environment A", "Environment B", "Docker Stacks layout", "repo2docker layout"]
    # What the browser sends for the card chosen, where the form says (its address carries the page's _xsrf token).
    action = html.unescape(re.search(r'<form[^>]*id="spawn_form"[^>]*\baction="([^"]+)"', page.text).group(1))
    answer = session.post(urljoin(page.url, action), data={"image": "Docker Stacks layout"}, timeout=120)
    assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + 180
    while not (bobs["c"].model() or {}).get("ready"):
        assert time.monotonic() < deadline, bobs["c"].progress()
        time.sleep(1)
    assert host.docker("jupyter-bob--c").is_running
    assert bobs["c"].model()["user_options"] == {"image": "Docker Stacks layout"}
    bobs["c"].stop()


def test_a_second_server_in_a_running_environment_is_refused(bobs):
    response = bobs["c"].start("Environment A")
    assert response.status_code == 409, response.text
    assert response.json()["message"] == "Environment A already runs in your server 'a': open it there, or stop it first."


def test_a_server_beyond_the_limit_is_refused_with_the_names_of_the_running_ones(bobs):
    assert bobs[""].start("Docker Stacks layout").status_code in (201, 202)
    response = bobs["d"].start("repo2docker layout")
    assert response.status_code == 409, response.text
    assert response.json()["message"].startswith("You can run 3 server(s) at once and already run 3 (your default server, ")
    bobs[""].stop()


def test_stopping_one_server_leaves_the_other_running(bobs):
    bobs["a"].stop()
    assert bobs["a"].model() is None
    assert bobs["b"].contents("").status_code == 200
