# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: unknown_role_options
version_added: 0.1.0
short_description: Name the variables that look like a misspelt option of a role
description:
  - Reads the role's C(meta/argument_specs.yml) and returns every variable in scope whose name starts with
    the role's prefix (its directory name and C(_)), is not an option of the role's C(main) entry point, and is
    close to one of them (similarity of at least 0.8, as Python's C(difflib) measures it), such as C(docker_sorce)
    for C(docker_source). argument_specs cannot catch those, since they are not options at all.
  - Other variables with the same prefix belong to someone else and pass, such as community.docker's connection
    variables C(docker_host), C(docker_api_version) or C(docker_tls).
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
  description: The misspelt variable names, sorted, each with the option it resembles ("docker_sorce (did you mean docker_source?)").
  type: list
  elements: str
"""

import difflib
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
            for name in sorted(variables or {}):
                if name.startswith(prefix) and name not in known:
                    unknown += [f"{name} (did you mean {match}?)" for match in difflib.get_close_matches(name, known, n=1, cutoff=0.8)]
        return unknown
