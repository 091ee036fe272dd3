import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.plasma.platform.plugins.filter.quotas import limit_bytes, quota_errors, quota_trees

ACCOUNTS = {"alice": ["x", "1001", "1001", "", "/home/alice", "/bin/bash"], "bob": ["x", "1002", "1002", "", "/srv/homes/bob", "/bin/bash"]}


@pytest.mark.parametrize(("text", "count"), [("10G", 10 * 1024**3), ("500M", 500 * 1024**2), ("2T", 2 * 1024**4), ("none", 0), ("", 0), (None, 0)])
def test_sizes_are_powers_of_1024_and_none_is_no_limit(text, count):
    assert limit_bytes(text) == count


@pytest.mark.parametrize("text", ["10 apples", "-1G", "1G2", "512K"])
def test_anything_else_is_named_in_the_error(text):
    users = [{"name": "alice", "quota": text}]
    (error,) = quota_errors(users, [], "")
    assert error.startswith(f"user 'alice': quota: {text!r} is ")
    assert quota_errors([], [{"name": "team", "group": "staff", "quota": text}], text)[0].startswith(f"quotas_user_limit: {text!r} is ")


def test_each_home_gets_its_own_limit_else_the_default_and_folders_theirs():
    users = [{"name": "alice"}, {"name": "bob", "quota": "1G"}, {"name": "gone", "state": "absent"}, {"name": "free", "quota": "none"}]
    folders = [{"name": "team", "group": "staff", "quota": "5G"}, {"name": "open", "group": "all"}]
    assert quota_trees(users, folders, "2G", ACCOUNTS) == [
        {"path": "/home/alice", "kind": "home", "name": "alice", "limit": 2 * 1024**3},
        {"path": "/srv/homes/bob", "kind": "home", "name": "bob", "limit": 1024**3},
        {"path": "/srv/projects/team", "kind": "folder", "name": "staff", "limit": 5 * 1024**3},
    ]
    assert quota_trees(users[:2], [], "", ACCOUNTS) == [{"path": "/srv/homes/bob", "kind": "home", "name": "bob", "limit": 1024**3}]


def test_an_account_that_is_not_on_the_host_is_an_error():
    with pytest.raises(AnsibleFilterError, match="no account carol"):
        quota_trees([{"name": "carol"}], [], "1G", ACCOUNTS)


def test_in_check_mode_an_account_not_made_yet_is_left_out():
    assert quota_trees([{"name": "carol"}, {"name": "alice"}], [], "1G", ACCOUNTS, missing_ok=True) == [
        {"path": "/home/alice", "kind": "home", "name": "alice", "limit": 1024**3}
    ]
