"""What the default scenario's tests share: its test host's hub, up."""

from __future__ import annotations

import pytest

from tests.support.hub import Hub
from tests.support.scenario import scenario_hub


@pytest.fixture(scope="session")
def hub() -> Hub:
    hub = scenario_hub()
    hub.wait_until_up()
    return hub
