from ansible_collections.plasma.platform.plugins.filter.monitoring import metrics_settings

ACCOUNTS = {"alice": ["x", "1001", "1001", "", "/home/alice", "/bin/bash"], "first.last": ["x", "2001", "2001", "", "/data/first.last", "/bin/bash"]}


def test_homes_come_from_the_accounts_and_absent_or_unmade_users_are_left_out():
    users = [{"name": "alice"}, {"name": "first.last"}, {"name": "gone", "state": "absent"}, {"name": "not-yet"}]
    folders = metrics_settings([], users, [], ACCOUNTS)["folders"]
    assert folders == [{"kind": "home", "name": "alice", "path": "/home/alice"}, {"kind": "home", "name": "first.last", "path": "/data/first.last"}]


def test_group_folders_are_named_by_their_group_at_their_path():
    folders = metrics_settings([], [], [{"name": "team", "group": "plasma-team"}, {"name": "x", "group": "g", "path": "/srv/x"}], {})["folders"]
    assert folders == [{"kind": "folder", "name": "plasma-team", "path": "/srv/projects/team"}, {"kind": "folder", "name": "g", "path": "/srv/x"}]


def test_an_environment_without_a_display_name_is_named_by_its_image():
    environments = metrics_settings([{"image": "r/a:1", "display_name": "A", "mem_limit": "1G"}, {"image": "r/b:2"}], [], [], {})["environments"]
    assert environments == [{"image": "r/a:1", "display_name": "A"}, {"image": "r/b:2", "display_name": "r/b:2"}]


def test_an_environment_built_from_git_is_marked_built():
    environments = metrics_settings([{"image": "plasma-builds/physics", "display_name": "Physics", "repository": "file:///srv/git/p.git"}], [], [], {})
    assert environments["environments"] == [{"image": "plasma-builds/physics", "display_name": "Physics", "built": True}]
