"""account_ids: one uid and gid per account and group on every host of a fleet, chosen before any change."""

from ansible_collections.plasma.platform.plugins.filter.accounts import account_entries, account_ids, users_plan


def host(passwd: dict[str, tuple[int, int]], groups: dict[str, int]) -> dict:
    """A host's facts as ansible.builtin.getent sets them."""
    return {
        "getent_passwd": {name: ["x", str(uid), str(gid), "", f"/home/{name}", "/bin/bash"] for name, (uid, gid) in passwd.items()},
        "getent_group": {name: ["x", str(gid), ""] for name, gid in groups.items()},
    }


DEBIAN = {"root": (0, 0), "nobody": (65534, 65534)}
DEBIAN_GROUPS = {"root": 0, "users": 100, "nogroup": 65534}


def test_new_accounts_get_the_next_id_free_on_every_host_as_useradd_would():
    hub = host({**DEBIAN, "admin": (1000, 1000)}, {**DEBIAN_GROUPS, "admin": 1000})
    node = host({**DEBIAN, "backup-agent": (1001, 1001)}, {**DEBIAN_GROUPS, "backup-agent": 1001})
    ids = account_ids([{"name": "alice"}, {"name": "first.last"}], [], {"hub": hub, "node": node})
    assert ids["errors"] == []
    # 1001 is free on the hub but taken on the node: both hosts get 1002 and 1003.
    assert ids["users"] == {
        "alice": {"uid": 1002, "gid": 1002, "group": "alice"},
        "first.last": {"uid": 1003, "gid": 1003, "group": "first.last"},
    }


def test_existing_ids_are_kept_and_new_groups_follow_each_range():
    hub = host({**DEBIAN, "alice": (1500, 1500)}, {**DEBIAN_GROUPS, "alice": 1500, "plasma-team": 3456, "docker": 999})
    node = host(DEBIAN, DEBIAN_GROUPS)
    groups = [{"name": "jupyterhub-users", "system": True}, {"name": "plasma-team"}, {"name": "course-x"}]
    ids = account_ids([{"name": "alice"}, {"name": "bob"}], groups, {"hub": hub, "node": node})
    assert ids["errors"] == []
    assert ids["users"]["alice"] == {"uid": 1500, "gid": 1500, "group": "alice"}
    assert ids["users"]["bob"]["uid"] == 1501
    # A system group from the top of the system range down, as groupadd --system; others above the highest in use.
    assert ids["groups"] == {"jupyterhub-users": 998, "plasma-team": 3456, "course-x": 3457}


def test_explicit_ids_are_taken_as_given():
    ids = account_ids([{"name": "alice", "uid": 20001, "gid": 30001}], [], {"hub": host(DEBIAN, DEBIAN_GROUPS)})
    assert ids == {"users": {"alice": {"uid": 20001, "gid": 30001, "group": "alice"}}, "groups": {}, "errors": []}


def test_an_account_with_users_as_primary_group_keeps_it():
    hub = host({**DEBIAN, "dan": (1200, 100)}, DEBIAN_GROUPS)
    ids = account_ids([{"name": "dan"}], [], {"hub": hub})
    assert ids["users"]["dan"] == {"uid": 1200, "gid": 100, "group": "users"}


def test_every_disagreement_is_reported_with_the_hosts():
    hub = host({**DEBIAN, "alice": (1001, 1001)}, {**DEBIAN_GROUPS, "alice": 1001, "plasma-team": 3456})
    node = host({**DEBIAN, "alice": (1005, 1005), "carol": (1002, 1002)}, {**DEBIAN_GROUPS, "alice": 1005, "plasma-team": 4000})
    ids = account_ids(
        [{"name": "alice"}, {"name": "eve", "uid": 1002}, {"name": "bob", "uid": 1001}],
        [{"name": "plasma-team"}],
        {"hub": hub, "node": node},
    )
    assert ids["errors"] == [
        "group 'plasma-team' has different ids on the hosts (3456 on hub, 4000 on node): give it the same id everywhere first",
        "account 'alice' has different ids on the hosts (1001 on hub, 1005 on node): give it the same id everywhere first",
        "account's primary group 'alice' has different ids on the hosts (1001 on hub, 1005 on node): give it the same id everywhere first",
        "account 'eve': id 1002 is taken by 'carol' on node",
        "account 'bob': id 1001 is taken by 'alice' on hub",
    ]


def test_an_explicit_id_never_renumbers_an_existing_account():
    hub = host({**DEBIAN, "alice": (1001, 1001)}, {**DEBIAN_GROUPS, "alice": 1001})
    ids = account_ids([{"name": "alice", "uid": 2000}], [], {"hub": hub})
    assert ids["errors"] == ["account 'alice' is given id 2000 but has 1001 on hub: the role does not renumber it"]


def test_reserved_names_system_accounts_and_system_uids_are_refused():
    hub = host({**DEBIAN, "postgres": (113, 120)}, {**DEBIAN_GROUPS, "postgres": 120})
    users = [{"name": "jovyan"}, {"name": "root"}, {"name": "postgres"}, {"name": "svc", "uid": 500}, {"name": "alice"}]
    ids = account_ids(users, [], {"hub": hub})
    assert ids["errors"] == [
        "account name 'jovyan' is reserved (the environment images keep their bundled files in /home/jovyan, which its home would hide): choose another name",
        "account name 'root' is reserved (it is the system's administrator): choose another name",
        "account 'postgres' is a system account on hub (uid 113): a platform user must be a person's account (uid 1000 to 59999); choose another name",
        "account 'svc' is given uid 500: a platform user's uid is 1000 to 59999",
    ]
    assert list(ids["users"]) == ["alice"]


def test_the_ids_of_removed_accounts_are_never_given_again():
    hub = host({**DEBIAN, "admin": (1000, 1000)}, {**DEBIAN_GROUPS, "admin": 1000})
    retired = ["leaver 1001 1001", "gone 1002 1002"]
    ids = account_ids([{"name": "newcomer"}, {"name": "leaver"}], [], {"hub": hub}, retired)
    assert ids["errors"] == []
    assert ids["users"]["newcomer"] == {"uid": 1003, "gid": 1003, "group": "newcomer"}
    assert ids["users"]["leaver"]["uid"] == 1004  # back under the same name: a new account, new ids
    refused = account_ids([{"name": "other", "uid": 1002}], [], {"hub": hub}, retired)
    assert refused["errors"] == [
        "account 'other' is given uid 1002, the uid of the removed account 'gone': its files may remain in group folders and backups; choose another uid"
    ]


def test_users_plan_sorts_users_list_into_what_the_role_does():
    users = [
        {"name": "alice", "admin": True, "groups": ["course-x", "lab"]},
        {"name": "bob", "state": "present", "groups": ["course-x"]},
        {"name": "carol", "state": "absent", "groups": ["course-x"]},
        {"name": "dave", "admin": False, "groups": None},
    ]
    plan = users_plan(users, ["course-x", "empty"], "jupyterhub-users", "jupyterhub-admins")
    assert [user["name"] for user in plan["present"]] == ["alice", "bob", "dave"]
    assert plan["absent"] == ["carol"]
    assert plan["admins"] == ["alice"]
    assert plan["groups"] == [
        {"name": "jupyterhub-users", "system": True},
        {"name": "jupyterhub-admins", "system": True},
        {"name": "course-x"},
        {"name": "empty"},
        {"name": "lab"},
    ]
    # Exactly the present accounts that name it: carol, leaving, is no member any more.
    assert plan["members"] == {"course-x": ["alice", "bob"], "empty": []}


def test_account_entries_give_each_account_its_ids_and_the_hub_groups():
    users = [
        {"name": "ada", "admin": True, "groups": ["physics"], "password": "$6$salt$hash"},
        {"name": "bob"},
        {"name": "old", "state": "absent"},
    ]
    plan = users_plan(users, ["physics"], "jupyterhub-users", "jupyterhub-admins")
    hub = {"getent_passwd": {"bob": ["x", "1005", "100", "", "/home/bob", "/bin/bash"]}, "getent_group": {"users": ["x", "100", ""]}}
    ids = account_ids(plan["present"], plan["groups"], {"hub": hub})
    entries = account_entries(plan, ids, "jupyterhub-users", "jupyterhub-admins")

    assert entries["groups"] == [
        {"name": "jupyterhub-users", "gid": 999, "system": True},
        {"name": "jupyterhub-admins", "gid": 998, "system": True},
        {"name": "physics", "gid": 1000, "system": False},
    ]
    ada, bob = entries["accounts"]
    hub_groups = ["jupyterhub-users", "jupyterhub-admins", "physics"]
    assert ada == {"name": "ada", "uid": 1006, "group": "ada", "gid": 1006, "groups": hub_groups, "password": "$6$salt$hash"}
    # bob keeps the primary group he has (users): no group of his name is made for him, and no password is set.
    assert bob == {"name": "bob", "uid": 1005, "group": "users", "groups": ["jupyterhub-users"]}
