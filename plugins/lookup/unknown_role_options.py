# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: unknown_role_options
version_added: 0.1.0
short_description: Name the variables that look like a role's options but are not among them
description:
  - Reads the role's C(meta/argument_specs.yml) and returns every variable in scope whose name starts with
    the role's prefix (its directory name and C(_)) but which is not an option of the role's C(main) entry point,
    such as a misspelt C(docker_sorce). argument_specs cannot catch those, since they are not options at all.
options:
  _terms:
    description: The role's path (C(role_path)).
    required: true
    type: list
    elements: path
"""

EXAMPLES = r"""
- name: Reject unknown docker_* variables
  ansible.builtin.assert:
    that: unknown | length == 0
    fail_msg: "Unknown option(s): {{ unknown | join(', ') }}"
  vars:
    unknown: "{{ lookup('plasma.platform.unknown_role_options', role_path, wantlist=True) }}"
"""

RETURN = r"""
_raw:
  description: The unknown variable names, sorted.
  type: list
  elements: str
"""

import os

import yaml
from ansible.plugins.lookup import LookupBase


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        unknown: list[str] = []
        for role_path in terms:
            with open(os.path.join(role_path, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
                known = set(yaml.safe_load(handle)["argument_specs"]["main"]["options"])
            prefix = os.path.basename(os.path.normpath(role_path)) + "_"
            unknown += sorted(name for name in variables or {} if name.startswith(prefix) and name not in known)
        return unknown
