"""A person in a browser (Debian's headless Chromium): log in, choose an environment's card on the spawn page by
keyboard, reach JupyterLab and see a bundled file. The screens are kept in tests/output/spawn-page.png and
tests/output/jupyterlab.png."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
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

        # The spawn page offers the environments as cards, in the inventory's order, each with its description and
        # what a server gets; a person picks one with the keyboard alone: the chosen card has the focus, an arrow moves
        # to the next, Enter starts it.
        cards = wait.until(expected_conditions.presence_of_all_elements_located((By.CSS_SELECTOR, "#plasma-environments .plasma-card")))
        texts = [" ".join(card.text.split()) for card in cards]
        assert texts[:2] == [
            "Environment A Welcome notebook and a small data set Memory: 1.0 GiB CPU: shared",
            "Environment B Python lessons, one file each Memory: 2.0 GiB CPU: 1.5 CPUs",
        ], texts
        offered = [text.split(" Memory:")[0] for text in texts[2:]]
        assert offered == ["Docker Stacks layout", "repo2docker layout", "Physics 101 Built from the course's repository"]
        assert "Built from file:///srv/git/physics.git at " in texts[4]  # and its commit (tests/test_builds.py)
        chosen = browser.switch_to.active_element  # the chosen card has the focus when the page opens
        assert chosen.get_attribute("name") == "image", chosen.get_attribute("outerHTML")
        assert chosen.get_attribute("value") == "Environment A" and chosen.is_selected()
        chosen.send_keys(Keys.ARROW_DOWN)
        assert browser.switch_to.active_element.get_attribute("value") == "Environment B"
        OUTPUT.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(OUTPUT / "spawn-page.png"))
        browser.switch_to.active_element.send_keys(Keys.ENTER)

        wait.until(expected_conditions.url_contains("/user/alice/lab"))
        listing = wait.until(expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, ".jp-DirListing-content"), "README-B.md"))
        assert listing
        assert "lessons" in browser.find_element(By.CSS_SELECTOR, ".jp-DirListing-content").text
        OUTPUT.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(OUTPUT / "jupyterlab.png"))
    finally:
        UserServer(hub, "alice", hub.token("alice", "alice-pass")).stop()
