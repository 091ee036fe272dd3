# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""Tests of names: the one home of the account and group name rule."""

from __future__ import annotations

import re

# useradd's and groupadd's portable names (Debian's NAME_REGEX without upper case: JupyterHub lower-cases logins),
# at most 32 characters.
POSIX_NAME = re.compile(r"[a-z_][a-z0-9._-]{0,31}")


def posix_name(value) -> bool:
    return isinstance(value, str) and POSIX_NAME.fullmatch(value) is not None


class TestModule:
    def tests(self) -> dict:
        return {"posix_name": posix_name}
