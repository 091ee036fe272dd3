"""posix_name: the account and group names useradd and groupadd accept, as directories hand them out."""

import pytest

from ansible_collections.plasma.platform.plugins.test.names import posix_name


@pytest.mark.parametrize("name", ["alice", "first.last", "j_doe", "svc-backup", "_build", "a" * 32])
def test_names_as_directories_hand_them_out_pass(name):
    assert posix_name(name)


@pytest.mark.parametrize("name", ["", "Alice", "-rf", ".hidden", "a/b", "../up", "Course X", "a" * 33, "bob\n", 7, None])
def test_anything_else_fails(name):
    assert not posix_name(name)
