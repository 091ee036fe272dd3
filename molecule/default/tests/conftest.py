"""What the default scenario's tests share: its test host's hub, up, and a person's browser (Debian's headless
Chromium), whose last screen is kept in tests/output/browser-last-screen.png."""

from __future__ import annotations

import tempfile

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.support.hub import Hub, UserServer
from tests.support.scenario import OUTPUT, scenario_hub


@pytest.fixture(scope="session")
def hub() -> Hub:
    hub = scenario_hub()
    hub.wait_until_up()
    return hub


@pytest.fixture(scope="module")
def bob(hub) -> UserServer:
    """bob's default server, stopped when the module's tests end."""
    server = UserServer(hub, "bob", hub.token("bob", "bob-pass"))
    yield server
    server.stop()


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--window-size=1280,800",
        f"--user-data-dir={tempfile.mkdtemp(prefix='plasma-chromium-')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    yield driver
    OUTPUT.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(OUTPUT / "browser-last-screen.png"))  # where a failed run stopped
    driver.quit()
