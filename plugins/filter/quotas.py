# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""Filters of the quotas role: the limits as the inventory gives them, checked, and as plasma-quota's settings."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.formatters import human_to_bytes

from ansible_collections.plasma.platform.plugins.filter.environments import shared_folders


def limit_bytes(value) -> int:
    """A limit as bytes: a size such as 10G or 500M (powers of 1024), a number of bytes, or none (0)."""
    if value is None or str(value).strip().lower() in ("", "none", "0"):
        return 0
    text = str(value).strip()
    try:
        count = human_to_bytes(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a size: give a number with K, M, G or T (10G, 500M), or none") from None
    if count < 1024 * 1024:
        raise ValueError(f"{text!r} is less than 1M: no server could start with it")
    return count


def quota_errors(users: list, folders: list, default_limit) -> list[str]:
    """What is wrong with the limits: one message per bad value, naming where it is."""
    errors = []
    for where, value in [("quotas_user_limit", default_limit)] + [
        (f"{kind} {entry.get('name')!r}: quota", entry["quota"])
        for kind, entries in (("user", users), ("group folder", folders))
        for entry in entries
        if "quota" in entry
    ]:
        try:
            limit_bytes(value)
        except ValueError as error:
            errors.append(f"{where}: {error}")
    return errors


def quota_trees(users: list, folders: list, default_limit, accounts: dict, missing_ok: bool = False) -> list[dict]:
    """plasma-quota's trees: the home of each present user with a limit (theirs, else the default), found in accounts
    (getent's passwd: name -> [password, uid, gid, gecos, home, shell]), then each group folder with a quota. With
    missing_ok (check mode, where the users role made no account), an account that is not there is left out."""
    trees = []
    for user in users:
        if user.get("state", "present") != "present":
            continue
        limit = limit_bytes(user["quota"] if "quota" in user else default_limit)
        if not limit:
            continue
        if user["name"] not in accounts:
            if missing_ok:
                continue
            raise AnsibleFilterError(f"there is no account {user['name']} on this host to limit: run the users role first")
        trees.append({"path": accounts[user["name"]][4], "kind": "home", "name": user["name"], "limit": limit})
    for folder, filled in zip(folders, shared_folders(folders), strict=True):
        limit = limit_bytes(folder.get("quota"))
        if limit:
            trees.append({"path": filled["path"], "kind": "folder", "name": filled["group"], "limit": limit})
    return trees


class FilterModule:
    def filters(self) -> dict:
        return {"quota_errors": quota_errors, "quota_trees": quota_trees}
