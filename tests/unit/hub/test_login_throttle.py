"""The hub's brake on password guessing: an account is locked after max_failures wrong passwords in a row, for
lockout seconds, with a message that says how long; a right password before that starts the count again."""

from __future__ import annotations

import asyncio

import pytest
from jupyterhub.auth import PAMAuthenticator
from tornado import web

from plasma_hub_login import LoginThrottle, ThrottledPAMAuthenticator


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_account_is_locked_after_max_failures_in_a_row_and_only_for_the_lockout():
    clock = Clock()
    throttle = LoginThrottle(max_failures=3, lockout=600, clock=clock)
    for _ in range(2):
        throttle.failed("bob")
    assert throttle.seconds_locked("bob") == 0
    throttle.failed("bob")
    assert throttle.seconds_locked("bob") == 600
    assert throttle.seconds_locked("alice") == 0  # per account
    clock.now += 599
    assert throttle.seconds_locked("bob") == 1
    clock.now += 1
    assert throttle.seconds_locked("bob") == 0
    throttle.failed("bob")  # a new count after the lockout
    assert throttle.seconds_locked("bob") == 0


def test_a_right_password_starts_the_count_again_and_zero_never_locks():
    throttle = LoginThrottle(max_failures=3, lockout=600)
    throttle.failed("bob")
    throttle.failed("bob")
    throttle.succeeded("bob")
    throttle.failed("bob")
    assert throttle.seconds_locked("bob") == 0
    never = LoginThrottle(max_failures=0, lockout=600)
    for _ in range(100):
        never.failed("bob")
    assert never.seconds_locked("bob") == 0


def test_the_authenticator_refuses_a_locked_account_with_how_long_even_with_the_right_password(monkeypatch):
    async def pam(self, handler, data):  # PAM's answer: the password is "right"
        return data["username"] if data["password"] == "right" else None

    monkeypatch.setattr(PAMAuthenticator, "authenticate", pam)
    authenticator = ThrottledPAMAuthenticator(login_max_failures=2, login_lockout=300)
    login = lambda password: asyncio.run(authenticator.authenticate(None, {"username": "Bob", "password": password}))  # noqa: E731
    assert login("wrong") is None
    assert login("wrong") is None
    with pytest.raises(web.HTTPError) as refused:
        login("right")
    assert refused.value.status_code == 429
    assert "Too many wrong passwords for bob" in refused.value.log_message and "5 more minute(s)" in refused.value.log_message
