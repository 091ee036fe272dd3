"""A person in a browser (Debian's headless Chromium): log in, choose an environment on the
spawn form, reach JupyterLab and see a bundled file. The screen is kept in tests/output/jupyterlab.png."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.hub import UserServer
from tests.support.scenario import OUTPUT, scenario_hub

testinfra_hosts = ["ansible://all"]
pytestmark = pytest.mark.release_independent


def test_log_in_choose_an_environment_and_see_its_files(browser):
    hub = scenario_hub()
    hub.wait_until_up()
    wait = WebDriverWait(browser, 180)
    try:
        hub.browser_login(browser, "alice", "alice-pass")

        # The spawn form offers the environments by their display names, in the inventory's order.
        select = Select(wait.until(expected_conditions.presence_of_element_located((By.NAME, "image"))))
        offered = [option.text for option in select.options]
        assert offered == ["Environment A", "Environment B", "Docker Stacks layout", "repo2docker layout"]
        select.select_by_visible_text("Environment B")
        browser.find_element(By.CSS_SELECTOR, "form#spawn_form [type=submit]").click()

        wait.until(expected_conditions.url_contains("/user/alice/lab"))
        listing = wait.until(expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, ".jp-DirListing-content"), "README-B.md"))
        assert listing
        assert "lessons" in browser.find_element(By.CSS_SELECTOR, ".jp-DirListing-content").text
        OUTPUT.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(OUTPUT / "jupyterlab.png"))
    finally:
        UserServer(hub, "alice", hub.token("alice", "alice-pass")).stop()
