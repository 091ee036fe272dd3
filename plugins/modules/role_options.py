#!/usr/bin/python
# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: role_options
version_added: 0.1.0
short_description: Stop on a variable that looks like a misspelt option of the role
description:
  - Reads the calling role's C(meta/argument_specs.yml) and fails, naming each, on every variable in scope whose name
    starts with the role's prefix (its folder's name and C(_)), is not an option of the role's C(main) entry point,
    and is close to one of them (similarity of at least 0.8, as Python's C(difflib) measures it), such as
    C(docker_sorce) for C(docker_source). argument_specs cannot catch those, since they are not options at all.
  - Also fails on every option of an earlier release that the role's C(meta/retired_options.yml) lists (the name, then
    C(release) and C(replaced_by), or C(why) when nothing replaced it), naming what took its place - so that an
    inventory written for an older release stops before anything changes instead of being half applied.
  - Also fails on a boolean option given as text, such as C(-e monitoring_enabled=true) on the command line gives
    (a condition on text fails with an error that names no option), saying how to give it as a boolean.
  - Other variables with the same prefix belong to someone else and pass, such as community.docker's connection
    variables C(docker_host), C(docker_api_version) or C(docker_tls).
  - Runs on the controller; changes nothing.
options:
  role_path:
    description: The role whose options count; by default the role the task belongs to.
    type: path
attributes:
  check_mode:
    support: full
    description: Runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing to show.
  platform:
    support: full
    platforms: all
    description: Runs on the controller.
author:
  - plasma.platform maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Reject unknown docker_* variables
  plasma.platform.role_options:
"""

RETURN = r"""
unknown:
  description:
    - The retired names, each with what replaced it ("hub_packages (renamed hub_python_packages in 2.0.0)"), then the
      misspelt names, sorted, each with the option it resembles ("docker_sorce (did you mean docker_source?)").
  returned: always
  type: list
  elements: str
"""
