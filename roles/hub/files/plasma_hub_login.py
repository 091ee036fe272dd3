# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""Host-account logins to the hub with a brake on password guessing: after max_failures wrong passwords for one
account, logins to that account are refused for lockout seconds, with a message that says so and for how long.

Installed into the hub's virtualenv by the hub role. The count is kept by the hub process (a restart forgets it)
and per account, as PAM's faillock does: someone who knows a user's name can keep them out while they guess."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from jupyterhub.auth import PAMAuthenticator
from tornado import web
from traitlets import Integer


class LoginThrottle:
    """Failed logins per account; an account with max_failures in a row is locked for lockout seconds."""

    def __init__(self, max_failures: int, lockout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures, self.lockout, self.clock = max_failures, lockout, clock
        self.failures: dict[str, int] = {}
        self.locked_until: dict[str, float] = {}

    def seconds_locked(self, name: str) -> float:
        """How long the account stays locked (0: it may log in)."""
        left = self.locked_until.get(name, 0) - self.clock()
        if left <= 0:
            self.locked_until.pop(name, None)
            return 0
        return left

    def failed(self, name: str) -> None:
        self.failures[name] = self.failures.get(name, 0) + 1
        if self.max_failures and self.failures[name] >= self.max_failures:
            self.locked_until[name] = self.clock() + self.lockout
            del self.failures[name]

    def succeeded(self, name: str) -> None:
        self.failures.pop(name, None)


class ThrottledPAMAuthenticator(PAMAuthenticator):
    """JupyterHub's PAMAuthenticator (configured as c.PAMAuthenticator too), with a LoginThrottle."""

    login_max_failures = Integer(5, config=True, help="Wrong passwords in a row after which an account's logins are refused for a while (0: never).")
    login_lockout = Integer(600, config=True, help="How long an account's logins are refused after too many wrong passwords (s).")
    _throttle: LoginThrottle | None = None

    @property
    def throttle(self) -> LoginThrottle:
        if self._throttle is None:
            self._throttle = LoginThrottle(self.login_max_failures, self.login_lockout)
        return self._throttle

    async def authenticate(self, handler, data):
        name = self.normalize_username(data.get("username", ""))
        left = self.throttle.seconds_locked(name)
        if left:
            self.log.warning("Login of %s refused: locked for %d s more after %d wrong passwords", name, left, self.login_max_failures)
            raise web.HTTPError(
                429,
                f"Too many wrong passwords for {name}: logins to this account are paused for "
                f"{math.ceil(left / 60)} more minute(s). Try again then, or ask an administrator.",
            )
        user = await super().authenticate(handler, data)
        if user is None:
            self.throttle.failed(name)
        else:
            self.throttle.succeeded(name)
        return user
