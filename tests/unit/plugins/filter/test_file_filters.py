"""package_files: a package's folder and modules as file_set entries."""

import pytest

from ansible_collections.plasma.platform.plugins.filter.files import package_files


def test_the_folder_first_then_each_module_under_its_file_name():
    files = package_files(["A = 1\n", "B = 2\n"], ["/ctl/roles/x/files/pkg/__init__.py", "/ctl/roles/x/files/pkg/b.py"], "/venv/site/pkg")
    assert files == [
        {"path": "/venv/site/pkg", "state": "directory", "owner": "root", "group": "root", "mode": "0755"},
        {"path": "/venv/site/pkg/__init__.py", "content": "A = 1\n", "owner": "root", "group": "root", "mode": "0644"},
        {"path": "/venv/site/pkg/b.py", "content": "B = 2\n", "owner": "root", "group": "root", "mode": "0644"},
    ]


def test_contents_and_sources_must_pair_up():
    with pytest.raises(ValueError, match="shorter|longer"):
        package_files(["A = 1\n"], ["a.py", "b.py"], "/venv/site/pkg")
