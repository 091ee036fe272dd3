#!/usr/bin/python
# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: file_set
short_description: Several files and directories put in place in one call, with check and diff mode
description:
  - Puts a list of files (with the given content), directories, and absent paths in place on the host, in order,
    in one module call - where one M(ansible.builtin.template) or M(ansible.builtin.copy) task per file costs
    two calls each, even when nothing changes.
  - Content comes from the task, usually from P(ansible.builtin.template#lookup) or P(ansible.builtin.file#lookup)
    lookups, which read a role's C(templates/) and C(files/) as the template and copy modules do.
  - A file is replaced atomically, only when its content differs, and only after its O(files[].validate)
    command accepted the new content. The first failure stops the run; entries before it stay done, the
    failing file and every entry after it stay untouched.
  - Meant for text files the collection owns; it neither follows nor keeps backups.
  - A new file never has more permissions than asked for, not even for an instant - it is written with
    mode C(0600) and given its owner, group and mode before it takes its place.
  - With O(user), every path is handled by that account, with its uid, gid and groups and without any
    privilege, for the files root puts in a user's tree - a link the user made there leads only where the
    user could write anyway.
version_added: 0.1.0
author:
  - plasma.platform maintainers (!UNKNOWN)
options:
  user:
    description:
      - The account that reads and writes every path, instead of the user the module runs as (root).
      - O(files[].owner) and O(files[].group) then may only name what that account can set (itself, its groups).
    type: str
  files:
    description: The paths, handled in this order.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path on the host.
        type: path
        required: true
      state:
        description:
          - V(file) writes O(files[].content); V(directory) creates the directory (and missing parents);
            V(absent) removes a file, or a directory with everything in it.
        type: str
        choices: [file, directory, absent]
        default: file
      content:
        description: The file's text, required with O(files[].state=file).
        type: str
      owner:
        description: Owner of the file or directory.
        type: str
      group:
        description: Group of the file or directory.
        type: str
      mode:
        description: Permissions, as an octal string such as V("0644").
        type: str
      validate:
        description:
          - Command that checks the new content before it replaces the file; V(%s) is the path of the new content.
          - Not run in check mode, where nothing is written.
        type: str
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying the host.
    support: full
  diff_mode:
    description: Returns each changed file's old and new text in diff mode.
    support: full
  idempotent:
    description: When run twice in a row with the same arguments, the second run reports no change.
    support: full
"""

EXAMPLES = r"""
- name: Write the hub's configuration
  plasma.platform.file_set:
    files:
      - path: /opt/tljh/config
        state: directory
        owner: root
        group: root
        mode: "0755"
      - path: /opt/tljh/config/jupyterhub_config.py
        content: "{{ lookup('ansible.builtin.template', 'jupyterhub_config.py.j2') }}"
        owner: root
        group: root
        mode: "0644"
        validate: /opt/tljh/hub/bin/python -m py_compile %s
      - path: /opt/tljh/config/jupyterhub_config.d/90-extra.py
        state: absent
  notify: restart jupyterhub
"""

RETURN = r"""
files:
  description: What happened to each path, in order.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The path.
      type: str
      sample: /opt/tljh/config/jupyterhub_config.py
    state:
      description: The state asked for.
      type: str
      sample: file
    changed:
      description: Whether the path was (or in check mode would be) changed.
      type: bool
      sample: false
"""

import json
import os
import pwd
import shutil
import tempfile
from collections.abc import Callable

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text


class Refused(Exception):
    """An entry that cannot be put in place; the run stops there."""

    def __init__(self, msg: str, **details) -> None:
        super().__init__(msg)
        self.details = details


def attributes(module: AnsibleModule, entry: dict) -> dict:
    """The owner, group and mode to compare and set, as Ansible's file modules pass them."""
    return module.load_file_common_arguments({key: entry[key] for key in ("path", "owner", "group", "mode")})


def put_file(module: AnsibleModule, entry: dict, diffs: list[dict]) -> bool:
    path, new = entry["path"], to_bytes(entry["content"])
    if os.path.isdir(path):
        raise Refused(f"{path} is a directory, not a file")
    old = None
    if os.path.exists(path) and not os.path.islink(path):  # a link is replaced, never written through
        with open(path, "rb") as handle:
            old = handle.read()
    changed = old != new
    if changed:
        diffs.append(
            {
                "before_header": path,
                "after_header": path,
                "before": "" if old is None else to_text(old, errors="surrogate_or_replace"),
                "after": entry["content"],
            }
        )
    if module.check_mode:
        # A file still to be created has no attributes to compare yet.
        return module.set_fs_attributes_if_different(attributes(module, entry), changed) if old is not None else changed
    if changed:
        # mkstemp makes the file 0600; it gets its attributes (an old file's, or the ones asked for) before its
        # name, so that it is never readable by more than it should be.
        descriptor, staged = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{os.path.basename(path)}.")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(new)
            if entry["validate"]:
                if "%s" not in entry["validate"]:
                    raise Refused(f"validate must contain %s (the new content's path): {entry['validate']}")
                rc, out, err = module.run_command(entry["validate"] % staged)
                if rc != 0:
                    raise Refused(f"{path}: the new content failed its check ({entry['validate']})", rc=rc, stdout=out, stderr=err)
            if old is not None:
                current = os.stat(path)
                os.chmod(staged, current.st_mode & 0o7777)
                if os.geteuid() == 0:
                    os.chown(staged, current.st_uid, current.st_gid)
            elif entry["mode"] is None:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(staged, 0o666 & ~umask)
            module.set_fs_attributes_if_different({**attributes(module, entry), "path": staged}, True)
            os.rename(staged, path)
        finally:
            if os.path.exists(staged):
                os.unlink(staged)
    return module.set_fs_attributes_if_different(attributes(module, entry), changed)


def put_directory(module: AnsibleModule, entry: dict, diffs: list[dict]) -> bool:
    path = entry["path"]
    if os.path.isdir(path):
        return module.set_fs_attributes_if_different(attributes(module, entry), False)
    if os.path.lexists(path):
        raise Refused(f"{path} exists and is not a directory")
    diffs.append({"before_header": path, "after_header": path, "before": "absent\n", "after": "directory\n"})
    if not module.check_mode:
        os.makedirs(path)
        module.set_fs_attributes_if_different(attributes(module, entry), True)
    return True


def remove(module: AnsibleModule, entry: dict, diffs: list[dict]) -> bool:
    path = entry["path"]
    if not os.path.lexists(path):
        return False
    directory = os.path.isdir(path) and not os.path.islink(path)
    diffs.append({"before_header": path, "after_header": path, "before": "directory\n" if directory else "file\n", "after": "absent\n"})
    if not module.check_mode:
        if directory:
            shutil.rmtree(path)
        else:
            os.unlink(path)
    return True


def put_all(module: AnsibleModule) -> dict:
    """Every entry in order, up to the first one refused: what happened to each, the diffs, and the refusal."""
    handlers = {"file": put_file, "directory": put_directory, "absent": remove}
    results, diffs = [], []
    for entry in module.params["files"]:
        try:
            changed = handlers[entry["state"]](module, entry, diffs)
        except Refused as refused:
            return {"files": results, "diffs": diffs, "refused": str(refused), "details": refused.details}
        except OSError as error:
            return {"files": results, "diffs": diffs, "refused": f"{entry['path']}: {error.strerror}", "details": {}}
        results.append({"path": entry["path"], "state": entry["state"], "changed": changed})
    return {"files": results, "diffs": diffs}


def as_account(name: str, work: Callable[[], dict]) -> dict:
    """What work() returns, run in a child process that has only the account's uid, gid and groups."""
    account = pwd.getpwnam(name)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop to the account for good, work, report, and leave without cleanup of the parent's
        os.close(read_end)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # only the parent answers Ansible
        try:
            os.setgroups(os.getgrouplist(name, account.pw_gid))
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)
            outcome = work()
        except BaseException as error:  # an AnsibleModule helper's fail_json exits: reported by the parent
            outcome = {"files": [], "diffs": [], "refused": f"as {name}: {error!r}", "details": {}}
        with os.fdopen(write_end, "w") as handle:
            json.dump(outcome, handle)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as handle:
        report = handle.read()
    os.waitpid(pid, 0)
    return json.loads(report) if report else {"files": [], "diffs": [], "refused": f"the process working as {name} ended", "details": {}}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "user": {"type": "str"},
            "files": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "path": {"type": "path", "required": True},
                    "state": {"type": "str", "choices": ["file", "directory", "absent"], "default": "file"},
                    "content": {"type": "str"},
                    "owner": {"type": "str"},
                    "group": {"type": "str"},
                    "mode": {"type": "str"},
                    "validate": {"type": "str"},
                },
                "required_if": [("state", "file", ["content"])],
            },
        },
        supports_check_mode=True,
    )
    for entry in module.params["files"]:
        if not os.path.isabs(entry["path"]):
            module.fail_json(msg=f"path must be absolute: {entry['path']}; nothing was changed")

    user = module.params["user"]
    if user is not None:
        try:
            pwd.getpwnam(user)
        except KeyError:
            if not module.check_mode:  # in check mode on a fresh host, the account is only planned
                module.fail_json(msg=f"there is no account {user}; nothing was changed")
            module.exit_json(changed=True, files=[])
    outcome = put_all(module) if user is None else as_account(user, lambda: put_all(module))
    results = outcome["files"]
    if "refused" in outcome:
        module.fail_json(msg=f"{outcome['refused']}; it was left as it was, and so was every path after it", files=results, **outcome["details"])
    result = {"changed": any(item["changed"] for item in results), "files": results}
    if module._diff:
        result["diff"] = outcome["diffs"]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
