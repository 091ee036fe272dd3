"""The spawner's view of a user's quota: what plasma-quota says, shown, given to the server, and a full home refused."""

import asyncio
import json

import pytest
from tornado import web

from plasma_spawner.quota import Usage, check_not_full, home_usage, parse, quota_environment

MIB = 1024 * 1024


def test_a_limited_home_is_read_and_an_unlimited_one_is_none():
    usage = parse(json.dumps({"used": 12 * MIB, "limit": 64 * MIB, "state": "ok"}))
    assert usage == Usage(12 * MIB, 64 * MIB, False)
    assert usage.sentence() == "Your home folder holds 12.0 MiB of the 64.0 MiB it may hold."
    assert parse(json.dumps({"used": 5, "limit": 0, "state": "ok"})) is None
    assert parse("{}") is None


def test_a_full_home_refuses_the_start_with_the_numbers():
    check_not_full(Usage(10 * MIB, 64 * MIB, False))
    check_not_full(None)
    with pytest.raises(web.HTTPError) as refused:
        check_not_full(Usage(64 * MIB - 4096, 64 * MIB, True))
    assert refused.value.status_code == 507 and "Your home folder is full (64.0 MiB of 64.0 MiB)" in refused.value.log_message


def test_the_server_gets_its_limit_and_usage_in_bytes():
    assert quota_environment(Usage(1, 2, False)) == {"PLASMA_HOME_QUOTA": "2", "PLASMA_HOME_USAGE": "1"}
    assert quota_environment(None) == {}


def test_plasma_quota_is_asked_and_its_failure_is_no_quota(tmp_path):
    program = tmp_path / "plasma-quota"
    program.write_text('#!/bin/sh\n[ "$1 $2 $3" = "usage alice --json" ] && echo \'{"used": 1048576, "limit": 2097152, "state": "warning"}\' || exit 2\n')
    program.chmod(0o755)
    assert asyncio.run(home_usage("alice", str(program))) == Usage(MIB, 2 * MIB, True)
    assert asyncio.run(home_usage("nobody-here", str(program))) is None
    assert asyncio.run(home_usage("alice", str(tmp_path / "absent"))) is None
