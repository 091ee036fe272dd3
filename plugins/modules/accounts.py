#!/usr/bin/python
# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: accounts
short_description: Many local groups and accounts put in place in one call, with check and diff mode
description:
  - Creates the groups and accounts it is given, or brings existing ones to what is asked (id, primary group,
    shell, password, added supplementary groups), and makes each account's home private to it - in one module
    call, where M(ansible.builtin.group), M(ansible.builtin.user) and M(ansible.builtin.file) loops cost three
    calls per account on every run, even when nothing changes.
  - It reads the account and group databases once and runs C(groupadd), C(groupmod), C(useradd), C(usermod) and
    C(chpasswd) only for what differs. It never removes an account or a group, and never takes an account out
    of a group.
  - Password hashes reach C(chpasswd) on its standard input, never on a command line.
  - A home is changed only when it is a directory (never through a link); files inside it are not touched. A home
    that is missing is made again from C(/etc/skel), as M(ansible.builtin.user) does.
version_added: 0.2.0
author:
  - plasma.platform maintainers (!UNKNOWN)
options:
  groups:
    description: Groups to create (or give the id asked for), before the accounts.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The group's name.
        type: str
        required: true
      gid:
        description: The group's id.
        type: int
        required: true
      system:
        description: A system group (C(groupadd --system)); only used when the group is created.
        type: bool
        default: false
  accounts:
    description: Accounts to create or bring to what is asked.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The account's name.
        type: str
        required: true
      uid:
        description: The account's id.
        type: int
        required: true
      group:
        description:
          - The account's primary group. When it is the account's own name and does not exist, it is created with
            O(accounts[].gid).
        type: str
        required: true
      gid:
        description: The id of the account's own group, when it is created.
        type: int
      groups:
        description: Supplementary groups the account is added to (it stays in any others).
        type: list
        elements: str
        default: []
      password:
        description: The password as a crypt(3) hash; left alone when not given.
        type: str
  shell:
    description: Login shell of every account.
    type: str
    default: /bin/bash
  create_home:
    description: Create the home of a new account (C(useradd --create-home)) and keep homes at O(home_mode).
    type: bool
    default: true
  home_mode:
    description: Permissions of every account's home, owned by the account and its primary group, as an octal string.
    type: str
    default: "0700"
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying the host.
    support: full
  diff_mode:
    description: Returns what would change for each group and account, passwords left out.
    support: full
  idempotent:
    description: When run twice in a row with the same arguments, the second run reports no change.
    support: full
notes:
  - Passwords are never returned, logged, or shown in a diff; only that an account's password changed.
"""

EXAMPLES = r"""
- name: Create the accounts
  plasma.platform.accounts:
    groups:
      - {name: jupyterhub-users, gid: 998, system: true}
    accounts:
      - name: ada
        uid: 1001
        group: ada
        gid: 1001
        groups: [jupyterhub-users]
        password: "$6$rounds=656000$..."
    home_mode: "0700"
  no_log: true  # the password hashes
"""

RETURN = r"""
changes:
  description: What changed (or in check mode would change), by group or account name; unchanged ones are left out.
  returned: always
  type: dict
  sample: {"ada": ["own group created", "created"], "bob": ["shell", "groups +jupyterhub-admins", "password"], "jupyterhub-users": ["created"]}
"""

import grp
import os
import pwd
import shutil
import stat

from ansible.module_utils.basic import AnsibleModule


def shadow_hashes() -> dict[str, str]:
    """Each account's password hash (the spwd module is gone from Python 3.13)."""
    try:
        with open("/etc/shadow", encoding="utf-8") as shadow:
            return {fields[0]: fields[1] for line in shadow if len(fields := line.rstrip("\n").split(":")) > 1}
    except FileNotFoundError:
        return {}


class Accounts:
    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.changes: dict[str, list[str]] = {}
        self.member_of: dict[str, set[str]] = {}
        for group in grp.getgrall():
            for member in group.gr_mem:
                self.member_of.setdefault(member, set()).add(group.gr_name)

    def run(self, argv: list[str], data: str | None = None) -> None:
        if self.module.check_mode:
            return
        rc, out, err = self.module.run_command(argv, data=data, binary_data=data is not None)
        if rc != 0:
            self.module.fail_json(msg=f"{argv[0]} failed: {(err or out).strip()}", changes=self.changes)

    def note(self, name: str, what: str) -> None:
        self.changes.setdefault(name, []).append(what)

    def group(self, name: str, gid: int, system: bool, label: str = "") -> None:
        """label: how the change is named (an account's own group is noted under the account)."""
        try:
            current = grp.getgrnam(name)
        except KeyError:
            self.run(["groupadd", "--gid", str(gid), *(["--system"] if system else []), name])
            self.note(name, f"{label}created")
            return
        if current.gr_gid != gid:
            self.run(["groupmod", "--gid", str(gid), name])
            self.note(name, f"{label}gid {current.gr_gid} -> {gid}")

    def account(self, wanted: dict, shell: str, create_home: bool, hashes: dict[str, str], passwords: list[str]) -> None:
        name = wanted["name"]
        if wanted["group"] == name and wanted.get("gid") is not None:
            self.group(name, wanted["gid"], system=False, label="own group ")
        try:
            current = pwd.getpwnam(name)
        except KeyError:
            current = None
        if current is None:
            self.run(
                [
                    "useradd",
                    "--uid",
                    str(wanted["uid"]),
                    "--gid",
                    wanted["group"],
                    "--shell",
                    shell,
                    "--create-home" if create_home else "--no-create-home",
                    *(["--groups", ",".join(wanted["groups"])] if wanted["groups"] else []),
                    name,
                ]
            )
            self.note(name, "created")
        else:
            options = []
            if current.pw_uid != wanted["uid"]:
                options += ["--uid", str(wanted["uid"])]
                self.note(name, f"uid {current.pw_uid} -> {wanted['uid']}")
            if self.gid_of(wanted["group"]) != current.pw_gid:
                options += ["--gid", wanted["group"]]
                self.note(name, f"primary group -> {wanted['group']}")
            if current.pw_shell != shell:
                options += ["--shell", shell]
                self.note(name, f"shell -> {shell}")
            member_of = self.member_of.get(name, set())
            missing = [group for group in wanted["groups"] if group not in member_of and self.gid_of(group) != current.pw_gid]
            if missing:
                options += ["--append", "--groups", ",".join(missing)]
                self.note(name, "groups +" + ",".join(missing))
            if options:
                self.run(["usermod", *options, name])
        if wanted.get("password") is not None and hashes.get(name) != wanted["password"]:
            passwords.append(f"{name}:{wanted['password']}")
            if current is not None:
                self.note(name, "password")

    def gid_of(self, group: str) -> int | None:
        try:
            return grp.getgrnam(group).gr_gid
        except KeyError:
            return None  # in check mode, a group that would be created first

    def home(self, name: str, mode: int) -> None:
        try:
            account = pwd.getpwnam(name)
        except KeyError:
            return  # in check mode, an account that would be created with its home
        try:
            # Opened without following a link, and changed through that handle: what was checked is what is changed.
            handle = os.open(account.pw_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except FileNotFoundError:
            self.note(name, "home created")
            if not self.module.check_mode:
                self.new_home(account, mode)
            return
        except OSError as error:  # a link gives ELOOP, a file ENOTDIR
            self.module.fail_json(msg=f"{name}'s home {account.pw_dir} is not a directory ({error.strerror}); it was left as it is", changes=self.changes)
        try:
            status = os.fstat(handle)
            if (status.st_uid, status.st_gid) != (account.pw_uid, account.pw_gid):
                self.note(name, "home owner")
                if not self.module.check_mode:
                    os.fchown(handle, account.pw_uid, account.pw_gid)
            if stat.S_IMODE(status.st_mode) != mode:
                self.note(name, f"home mode {stat.S_IMODE(status.st_mode):04o} -> {mode:04o}")
                if not self.module.check_mode:
                    os.fchmod(handle, mode)
        finally:
            os.close(handle)

    @staticmethod
    def new_home(account: pwd.struct_passwd, mode: int) -> None:
        """A home deleted by hand made again, as useradd makes one: /etc/skel's files, all the account's. Root's until
        it is complete, so the account cannot put a link in it while root works there."""
        os.mkdir(account.pw_dir, 0o700)
        if os.path.isdir("/etc/skel"):
            shutil.copytree("/etc/skel", account.pw_dir, symlinks=True, dirs_exist_ok=True)
        for folder, dirs, files in os.walk(account.pw_dir):
            for entry in dirs + files:
                os.lchown(os.path.join(folder, entry), account.pw_uid, account.pw_gid)
        os.chmod(account.pw_dir, mode)
        os.chown(account.pw_dir, account.pw_uid, account.pw_gid)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "groups": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {"name": {"type": "str", "required": True}, "gid": {"type": "int", "required": True}, "system": {"type": "bool", "default": False}},
            },
            "accounts": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "name": {"type": "str", "required": True},
                    "uid": {"type": "int", "required": True},
                    "group": {"type": "str", "required": True},
                    "gid": {"type": "int"},
                    "groups": {"type": "list", "elements": "str", "default": []},
                    "password": {"type": "str", "no_log": True},
                },
            },
            "shell": {"type": "str", "default": "/bin/bash"},
            "create_home": {"type": "bool", "default": True},
            "home_mode": {"type": "str", "default": "0700"},
        },
        supports_check_mode=True,
    )
    try:
        home_mode = int(module.params["home_mode"], 8)
    except ValueError:
        module.fail_json(msg=f"home_mode must be an octal string such as 0700, not {module.params['home_mode']}; nothing was changed")
    accounts = Accounts(module)
    for group in module.params["groups"]:
        accounts.group(group["name"], group["gid"], group["system"])
    hashes, passwords = shadow_hashes(), []
    for wanted in module.params["accounts"]:
        accounts.account(wanted, module.params["shell"], module.params["create_home"], hashes, passwords)
    if passwords:
        accounts.run(["chpasswd", "--encrypted"], data="\n".join(passwords) + "\n")
    if module.params["create_home"]:
        for wanted in module.params["accounts"]:
            accounts.home(wanted["name"], home_mode)
    diff = {"before": "", "after": "".join(f"{name}: {', '.join(what)}\n" for name, what in sorted(accounts.changes.items()))}
    module.exit_json(changed=bool(accounts.changes), changes=accounts.changes, diff=diff)


if __name__ == "__main__":
    main()
