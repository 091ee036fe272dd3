# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""The action of plasma.platform.role_options (its documentation is in plugins/modules/role_options.py)."""

from __future__ import annotations

import difflib
import os

import yaml
from ansible.plugins.action import ActionBase


def misspelt_options(role_path: str, names) -> list[str]:
    """The names that start with the role's prefix (its folder's name and "_"), are no option of the role's main
    entry point and are close to one (difflib's ratio of at least 0.8), each with the option it resembles. Other names
    with the prefix belong to someone else (community.docker's docker_host) and pass."""
    with open(os.path.join(role_path, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        known = set(yaml.safe_load(handle)["argument_specs"]["main"]["options"])
    prefix = os.path.basename(os.path.normpath(role_path)) + "_"
    return [
        f"{name} (did you mean {match}?)"
        for name in sorted(names)
        if name.startswith(prefix) and name not in known
        for match in difflib.get_close_matches(name, known, n=1, cutoff=0.8)
    ]


def retired_options(role_path: str, names) -> list[str]:
    """The names among the role's options of earlier releases (meta/retired_options.yml: name -> release, and replaced_by
    or why), each with what took its place: an inventory written for an older release stops before any change."""
    path = os.path.join(role_path, "meta", "retired_options.yml")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        retired = yaml.safe_load(handle) or {}
    return [
        f"{name} (renamed {entry['replaced_by']} in {entry['release']})"
        if entry.get("replaced_by")
        else f"{name} (removed in {entry['release']}: {entry['why']})"
        for name, entry in sorted(retired.items())
        if name in names
    ]


def booleans_given_as_text(role_path: str, values: dict) -> list[str]:
    """The role's boolean options whose value is text such as "true" (what ``-e name=true`` gives): a condition on
    text fails with an error that names no option, so they are named here."""
    with open(os.path.join(role_path, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    return [
        name
        for name, spec in sorted(options.items())
        if spec.get("type") == "bool" and isinstance(values.get(name), str) and "{{" not in values[name] and "{%" not in values[name]
    ]


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("role_path",))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        role_path = self._task.args.get("role_path") or task_vars.get("role_path")
        if not role_path:
            return {**result, "failed": True, "msg": "role_options runs in a role's tasks (or give role_path)"}
        role = os.path.basename(os.path.normpath(role_path))
        unknown = retired_options(role_path, task_vars) + misspelt_options(role_path, task_vars)
        as_text = booleans_given_as_text(role_path, task_vars)
        result.update(changed=False, unknown=unknown)
        if as_text:
            example = as_text[0]
            return {
                **result,
                "failed": True,
                "msg": f"{', '.join(as_text)}: true or false, not the text {task_vars[example]!r} (what -e {example}={task_vars[example]} gives);"
                f" write -e '{{\"{example}\": true}}' on the command line, or {example}: true in a YAML inventory or group_vars file.",
            }
        if unknown:
            result.update(
                failed=True,
                msg=f"Unknown option(s) for the {role} role: {', '.join(unknown)}. The options are listed in the role's README and meta/argument_specs.yml.",
            )
        return result
