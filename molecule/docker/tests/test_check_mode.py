"""Check mode on the converged host: nothing fails and nothing would change (the scenario's
test sequence also runs check mode on the fresh host, before the first converge)."""

import pytest

from tests.support.scenario import assert_check_mode_changes_nothing

testinfra_hosts = ["ansible://all"]
pytestmark = pytest.mark.release_independent


def test_check_mode_on_the_converged_host_changes_nothing():
    assert_check_mode_changes_nothing()
