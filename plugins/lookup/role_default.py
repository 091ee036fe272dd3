# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
name: role_default
version_added: 0.1.0
short_description: Another role's default for one of its options, read from that role's defaults
description:
  - Returns the value the owning role's C(defaults/main.yml) gives an option - the one place that value is written.
    A role that works with another role's fact (the hub's prefix, the shared data's path, the users' groups) defaults
    to that option when it is set and to this lookup otherwise, rather than to a copy of the value.
  - The owning role is the collection's role whose name the option starts with (C(shared_data_path) is
    C(shared_data)'s). Only literal defaults are returned as they are; a templated one is returned unrendered.
author:
  - plasma.platform maintainers (!UNKNOWN)
options:
  _terms:
    description: Option names, each prefixed by its role's name.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Where the hub lives, when the play does not say
  ansible.builtin.debug:
    msg: "{{ hub_prefix | default(lookup('plasma.platform.role_default', 'hub_prefix')) }}"
"""

RETURN = r"""
_raw:
  description: The defaults, one per term.
  type: list
  elements: raw
"""

from functools import cache
from pathlib import Path

import yaml
from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

ROLES = Path(__file__).resolve().parents[2] / "roles"


@cache  # defaults are read again at each use of a variable; the files do not change in a run
def role_default(option: str, roles: Path = ROLES):
    """The default of option in its role's defaults/main.yml."""
    owners = sorted((role.name for role in roles.iterdir() if option.startswith(role.name + "_")), key=len)
    if not owners:
        raise AnsibleLookupError(f"{option} belongs to no role of the collection (no role's name starts it)")
    defaults = yaml.safe_load((roles / owners[-1] / "defaults" / "main.yml").read_text(encoding="utf-8")) or {}
    if option not in defaults:
        raise AnsibleLookupError(f"the {owners[-1]} role has no option {option}")
    return defaults[option]


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        return [role_default(term) for term in terms]
