"""plasma.platform.accounts in throwaway Debian 12 and 13 containers (the test hosts' images), through ansible-playbook:
groups and accounts in one call, a re-run that changes nothing, drift put back, check mode, and a home that is a link."""

from __future__ import annotations

import json
import subprocess
import uuid
from functools import partial

import pytest

from tests.support.registry import run_module

HASH = "$6$plasmasalt$" + "a" * 86  # a well-formed SHA-512 crypt(3) hash
OTHER_HASH = "$6$othersalt$" + "b" * 86


@pytest.fixture(params=["bookworm", "trixie"])
def host(request):
    name = f"plasma-accounts-{uuid.uuid4().hex[:8]}"
    command = ["docker", "run", "-d", "--rm", "--name", name, "--entrypoint", "sleep", f"plasma-testhost:{request.param}", "infinity"]
    subprocess.run(command, check=True, capture_output=True)
    yield name
    subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def sh(host: str, command: str) -> str:
    return subprocess.run(["docker", "exec", host, "sh", "-c", command], capture_output=True, text=True, check=True).stdout.strip()


def args(**extra) -> dict:
    return {
        "groups": [{"name": "jupyterhub-users", "gid": 990, "system": True}, {"name": "physics", "gid": 2000}],
        "accounts": [
            {"name": "ada", "uid": 1500, "group": "ada", "gid": 1500, "groups": ["jupyterhub-users", "physics"], "password": HASH},
            {"name": "first.last", "uid": 1501, "group": "first.last", "gid": 1501, "groups": ["jupyterhub-users"]},
        ],
        **extra,
    }


def test_groups_and_accounts_are_made_in_one_call_then_left_alone(host):
    accounts = partial(run_module, module="plasma.platform.accounts", host=host)
    first = accounts(args())
    # Then the home's mode, where useradd makes homes 0755 (Debian 12).
    assert first["changed"] is True and first["changes"]["ada"][:2] == ["own group created", "created"] and first["changes"]["physics"] == ["created"]
    assert sh(host, "id ada") == "uid=1500(ada) gid=1500(ada) groups=1500(ada),990(jupyterhub-users),2000(physics)"
    assert sh(host, "getent passwd first.last") == "first.last:x:1501:1501::/home/first.last:/bin/bash"
    assert sh(host, "getent shadow ada | cut -d: -f2") == HASH
    assert sh(host, "stat -c '%a %U:%G' /home/ada /home/first.last") == "700 ada:ada\n700 first.last:first.last"
    assert HASH not in json.dumps(first)

    again = accounts(args())
    assert again["changed"] is False and again["changes"] == {}


def test_drift_is_put_back_and_what_was_added_by_hand_stays(host):
    accounts = partial(run_module, module="plasma.platform.accounts", host=host)
    accounts(args())
    sh(host, "groupadd lab && usermod -a -G lab ada && usermod -s /bin/sh ada && gpasswd -d ada physics && chmod 0755 /home/ada")
    sh(host, f"echo 'ada:{OTHER_HASH}' | chpasswd -e")
    sh(host, "rm -rf /home/first.last")

    result = accounts(args(), diff=True)
    assert sorted(result["changes"]["ada"]) == ["groups +physics", "home mode 0755 -> 0700", "password", "shell -> /bin/bash"]
    assert result["changes"]["first.last"] == ["home created"]
    assert sh(host, "stat -c '%a %U:%G' /home/first.last /home/first.last/.bashrc") == "700 first.last:first.last\n644 first.last:first.last"
    assert sorted(sh(host, "id -nG ada").split()) == ["ada", "jupyterhub-users", "lab", "physics"]  # lab, added by hand, stays
    assert sh(host, "getent passwd ada | cut -d: -f7") == "/bin/bash"
    assert sh(host, "getent shadow ada | cut -d: -f2") == HASH
    assert sh(host, "stat -c %a /home/ada") == "700"
    assert HASH not in json.dumps(result) and OTHER_HASH not in json.dumps(result)


def test_check_mode_says_what_it_would_make_and_makes_nothing(host):
    result = run_module(args(), check=True, module="plasma.platform.accounts", host=host)
    assert result["changed"] is True and set(result["changes"]) == {"jupyterhub-users", "physics", "ada", "first.last"}
    assert sh(host, "getent passwd ada physics; getent group physics ada; ls /home") == ""


def test_a_home_that_is_a_link_is_refused_and_what_it_points_to_untouched(host):
    accounts = partial(run_module, module="plasma.platform.accounts", host=host)
    accounts(args())
    sh(host, "rm -rf /home/ada && ln -s /etc /home/ada")

    result = accounts(args())
    assert result["failed"] is True and "/home/ada is not a directory" in result["msg"]
    assert sh(host, "stat -c '%a %U' /etc") == "755 root"


def test_an_account_without_a_home_is_made_without_one_where_homes_are_shared(host):
    result = run_module(args(create_home=False), module="plasma.platform.accounts", host=host)
    assert result["changed"] is True
    assert sh(host, "getent passwd ada | cut -d: -f6; test -e /home/ada && echo exists || echo absent") == "/home/ada\nabsent"
