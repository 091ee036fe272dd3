# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""Filters of the monitoring role: what plasma-metrics measures, as its settings."""

from __future__ import annotations

from ansible_collections.plasma.platform.plugins.filter.environments import shared_folders


def metrics_settings(environments: list, users: list, folders: list, accounts: dict) -> dict:
    """plasma-metrics' environments ({image, display_name}, the image when no name is given; built: true for one built
    from Git, whose image is a name whose every tag is a build) and folders: the home of
    each present user found in accounts (getent's passwd: name -> [password, uid, gid, gecos, home, shell]; an account
    not made yet, as in check mode, is left out) and each group folder, as {kind, name, path}."""
    homes = [
        {"kind": "home", "name": user["name"], "path": accounts[user["name"]][4]}
        for user in users
        if user.get("state", "present") == "present" and user["name"] in accounts
    ]
    return {
        "environments": [
            {"image": entry["image"], "display_name": entry.get("display_name") or entry["image"], **({"built": True} if entry.get("repository") else {})}
            for entry in environments
        ],
        "folders": homes + [{"kind": "folder", "name": folder["group"], "path": folder["path"]} for folder in shared_folders(folders)],
    }


class FilterModule:
    def filters(self) -> dict:
        return {"metrics_settings": metrics_settings}
