"""plasma.platform.file_set on this machine, through ansible-playbook: files and folders in one call,
a re-run that changes nothing, check and diff mode, a failed check that touches nothing."""

from __future__ import annotations

import os
import stat
from functools import partial
from pathlib import Path

from tests.support.registry import run_module

file_set = partial(run_module, module="plasma.platform.file_set")


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def test_files_and_folders_are_put_in_place_once_then_left_alone(tmp_path):
    entries = [
        {"path": str(tmp_path / "etc"), "state": "directory", "mode": "0750"},
        {"path": str(tmp_path / "etc" / "app.conf"), "content": "port = 8000\n", "mode": "0640", "owner": "root", "group": "root"},
        {"path": str(tmp_path / "etc" / "run.sh"), "content": "#!/bin/sh\necho hi\n", "mode": "0755", "validate": "sh -n %s"},
    ]
    first = file_set({"files": entries})
    assert first["changed"] is True and [item["changed"] for item in first["files"]] == [True, True, True]
    assert (tmp_path / "etc" / "app.conf").read_text() == "port = 8000\n"
    assert [mode(tmp_path / "etc"), mode(tmp_path / "etc" / "app.conf"), mode(tmp_path / "etc" / "run.sh")] == ["0o750", "0o640", "0o755"]

    again = file_set({"files": entries})
    assert again["changed"] is False and not any(item["changed"] for item in again["files"])


def test_a_changed_mode_alone_is_put_back(tmp_path):
    target = tmp_path / "app.conf"
    entries = [{"path": str(target), "content": "x\n", "mode": "0644"}]
    file_set({"files": entries})
    target.chmod(0o666)
    result = file_set({"files": entries})
    assert result["changed"] is True and mode(target) == "0o644"


def test_check_mode_reports_with_a_diff_and_writes_nothing(tmp_path):
    target = tmp_path / "app.conf"
    target.write_text("port = 8000\n")
    entries = [
        {"path": str(target), "content": "port = 9000\n"},
        {"path": str(tmp_path / "new"), "state": "directory"},
        {"path": str(tmp_path / "new" / "file"), "content": "new\n"},
    ]
    result = file_set({"files": entries}, check=True, diff=True)
    assert result["changed"] is True
    assert target.read_text() == "port = 8000\n" and not (tmp_path / "new").exists()
    assert {"before_header": str(target), "after_header": str(target), "before": "port = 8000\n", "after": "port = 9000\n"} in result["diff"]


def test_content_that_fails_its_check_changes_nothing_from_there_on(tmp_path):
    script, later = tmp_path / "run.sh", tmp_path / "later.conf"
    script.write_text("echo old\n")
    result = file_set(
        {
            "files": [
                {"path": str(tmp_path / "before.conf"), "content": "before\n"},
                {"path": str(script), "content": "if then fi (\n", "validate": "sh -n %s"},
                {"path": str(later), "content": "later\n"},
            ]
        }
    )
    assert result["failed"] is True
    assert f"{script}: the new content failed its check (sh -n %s)" in result["msg"]
    assert (tmp_path / "before.conf").read_text() == "before\n"
    assert script.read_text() == "echo old\n" and not later.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["before.conf", "run.sh"]  # no staged copy left behind


def test_absent_removes_files_and_whole_folders_and_is_quiet_when_gone(tmp_path):
    (tmp_path / "old" / "deep").mkdir(parents=True)
    (tmp_path / "old" / "deep" / "file").write_text("x")
    (tmp_path / "stale.conf").write_text("x")
    entries = [{"path": str(tmp_path / "old"), "state": "absent"}, {"path": str(tmp_path / "stale.conf"), "state": "absent"}]
    assert file_set({"files": entries})["changed"] is True
    assert list(tmp_path.iterdir()) == []
    assert file_set({"files": entries})["changed"] is False


def test_a_folder_where_a_file_belongs_is_refused(tmp_path):
    (tmp_path / "app.conf").mkdir()
    result = file_set({"files": [{"path": str(tmp_path / "app.conf"), "content": "x\n"}]})
    assert result["failed"] is True and "is a directory, not a file" in result["msg"]


def test_as_a_user_links_lead_only_where_that_user_could_write():
    """user: the account's own tree, written by the account: a link it made to root's files changes nothing
    there; a link in place of a managed file is replaced by the file."""
    import pwd
    import shutil
    import tempfile

    nobody = pwd.getpwnam("nobody")
    home = Path(tempfile.mkdtemp(dir="/tmp"))
    protected = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        home.chmod(0o755)
        (protected / "keys").write_text("root's\n")
        (home / "tree").mkdir()
        (home / "tree" / "keys").symlink_to(protected / "keys")
        (home / "linked").symlink_to(protected)
        for path in (home / "tree", home / "tree" / "keys", home / "linked"):
            os.lchown(path, nobody.pw_uid, nobody.pw_gid)

        written = file_set({"user": "nobody", "files": [{"path": str(home / "tree" / "keys"), "content": "mine\n", "mode": "0600"}]})
        assert written["changed"] is True
        assert (protected / "keys").read_text() == "root's\n"
        keys = home / "tree" / "keys"
        assert not keys.is_symlink() and keys.read_text() == "mine\n" and keys.stat().st_uid == nobody.pw_uid

        refused = file_set({"user": "nobody", "files": [{"path": str(home / "linked" / "keys"), "content": "mine\n"}]})
        assert "Permission denied" in refused["msg"]
        assert (protected / "keys").read_text() == "root's\n"
    finally:
        shutil.rmtree(home)
        shutil.rmtree(protected)
