"""The hub's restore page (the backup role's, a JupyterHub service): a user restores their deleted notebook from
yesterday's snapshot in a browser; and as the attacker, another user's files, paths out of the home, links in the
snapshot and links where the copy is written lead nowhere; group folders are their members'; a restore can be
followed and cancelled, and leaves an audit line; with the page off its address answers 404."""

from __future__ import annotations

import hashlib
import json
import re
import time

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.hub import RestorePage
from tests.support.scenario import OUTPUT, as_user, run_playbook

testinfra_hosts = ["ansible://all"]

NOTEBOOK = json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Results, day one\n"]}], "nbformat": 4, "nbformat_minor": 5})


@pytest.fixture(scope="module")
def yesterday(host) -> dict:
    """A real restic snapshot dated yesterday, of the homes and the team's folder as they were then; since then,
    the notebook was deleted. Links bob made then are in it, as links."""
    as_user(host, "alice", f"mkdir -p ~/project && printf '%s' '{NOTEBOOK}' > ~/analysis.ipynb && printf 'one\\n' > ~/project/a.txt")
    as_user(host, "alice", "printf 'shared plan\\n' > /srv/projects/team-project/plan.txt && truncate -s 2G ~/big.bin")
    as_user(host, "bob", "rm -rf ~/restored ~/to-alice && ln -s /home/alice ~/to-alice && printf 'mine\\n' > ~/notes.txt")
    host.run_expect([0], "printf 'secret\\n' > /home/alice/secret.txt && chown alice: /home/alice/secret.txt && chmod 600 /home/alice/secret.txt")
    # (restic 0.14 names the new snapshot by its short id, later releases by the whole one.)
    summary = host.check_output(
        "plasma-backup restic backup --json --tag plasma-platform --time \"$(date -d yesterday '+%Y-%m-%d %H:%M:%S')\""
        " /home /srv/projects/team-project | tail -n 1"
    )
    as_user(host, "alice", "rm ~/analysis.ipynb ~/big.bin /srv/projects/team-project/plan.txt")
    snapshots = json.loads(host.check_output("plasma-backup restic snapshots --json"))
    snapshot = next(snapshot for snapshot in snapshots if snapshot["id"].startswith(json.loads(summary)["snapshot_id"]))
    # The restored copy's folder is named after the snapshot's time on the host.
    return {**snapshot, "stamp": host.check_output(f"date -d {snapshot['time']} +%Y-%m-%d_%H%M")}


def sha256(host, path: str) -> str:
    return host.check_output(f"sha256sum {path}").split()[0]


@pytest.mark.release_independent
def test_a_user_restores_yesterday_s_notebook_in_the_browser(host, hub, browser, yesterday):
    wait = WebDriverWait(browser, 120)
    hub.browser_login(browser, "alice", "alice-pass")

    # The hub's navigation links the page (its Services menu).
    browser.get(f"{hub.base_url}/hub/home")
    link = wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "a.dropdown-item[href$='/services/restore/']")))
    browser.get(link.get_attribute("href"))

    stamp = yesterday["stamp"]  # the page names each snapshot by its time, YYYY-MM-DD HH:MM
    wait.until(expected_conditions.presence_of_element_located((By.LINK_TEXT, f"{stamp[:10]} {stamp[11:13]}:{stamp[13:]}"))).click()
    restore = wait.until(expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, "button[data-path='analysis.ipynb']")))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(OUTPUT / "restore-page.png"))
    restore.click()
    wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "state"), "Restored."))
    target = browser.find_element(By.ID, "target").text

    assert target == f"/home/alice/restored/{yesterday['stamp']}/analysis.ipynb"
    assert host.file(target).user == "alice"
    assert sha256(host, target) == hashlib.sha256(NOTEBOOK.encode()).hexdigest()
    assert not host.file("/home/alice/analysis.ipynb").exists  # beside it, not in its place

    audit = host.check_output("journalctl -t plasma-restore --no-pager -o cat")
    assert f"alice restore of /home/alice/analysis.ipynb from snapshot {yesterday['short_id']}" in audit


def test_a_user_gets_only_their_own_files_whatever_they_ask_for(host, hub, yesterday):
    bob = RestorePage(hub, "bob", "bob-pass")
    snapshot = yesterday["id"]
    assert bob.browse(snapshot).status_code == 200
    for path in ("../alice", "../alice/secret.txt", "/home/alice", "/etc", "./notes.txt", "to-alice/../../alice"):
        assert bob.browse(snapshot, path).status_code == 403, path
        assert bob.restore(snapshot, path).status_code == 403, path
    # A link bob made, in the snapshot: never followed, neither to browse nor to restore through it.
    assert bob.browse(snapshot, "to-alice").status_code == 404
    assert bob.restore(snapshot, "to-alice/secret.txt").status_code == 404
    assert bob.restore(snapshot, "to-alice").status_code == 403
    # Another user's folder, named as the page names folders.
    assert bob.browse(snapshot, "", "group:team-project").status_code == 403
    assert bob.restore(snapshot, "plan.txt", "group:team-project").status_code == 403
    assert bob.restore(snapshot, "notes.txt", "home/../alice").status_code == 403
    # No form token, no restore (another site's form cannot restore for bob).
    assert bob.session.post(bob.base + "restore", data={"snapshot": snapshot, "path": "notes.txt"}, timeout=60).status_code == 403
    assert not host.file("/home/bob/restored").exists


@pytest.mark.release_independent
def test_a_link_where_the_copy_goes_leads_nowhere(host, hub, yesterday):
    """bob puts links where his restored copy will be written, to a place outside his home that he can write."""
    host.run_expect([0], "rm -rf /tmp/bob-elsewhere && install -d -o bob -m 0700 /tmp/bob-elsewhere")
    bob = RestorePage(hub, "bob", "bob-pass")
    as_user(host, "bob", "ln -s /tmp/bob-elsewhere ~/restored")
    answer = bob.restore(yesterday["id"], "notes.txt")
    assert answer.status_code == 302
    assert "Failed: cannot make /home/bob/restored/" in bob.finished(answer.headers["Location"])

    # The snapshot's own folder name taken by a link: the copy goes into a fresh folder beside it.
    stamp = yesterday["stamp"]
    as_user(host, "bob", f"rm ~/restored && mkdir ~/restored && ln -s /tmp/bob-elsewhere ~/restored/{stamp}")
    answer = bob.restore(yesterday["id"], "notes.txt")
    assert "Restored." in bob.finished(answer.headers["Location"])
    assert host.check_output("ls -A /tmp/bob-elsewhere") == ""
    copies = host.check_output("find /home/bob/restored -type f").split()
    assert len(copies) == 1 and copies[0] == f"/home/bob/restored/{stamp}-2/notes.txt", copies
    assert host.file(copies[0]).user == "bob"
    as_user(host, "bob", "rm -rf ~/restored")


@pytest.mark.release_independent
def test_members_restore_their_group_folder_into_it(host, hub, yesterday):
    member = RestorePage(hub, "alice", "alice-pass")
    answer = member.restore(yesterday["id"], "plan.txt", "group:team-project")
    assert "Restored." in member.finished(answer.headers["Location"])
    copies = host.check_output("find /srv/projects/team-project/restored -name plan.txt").split()
    assert len(copies) == 1
    copy = host.file(copies[0])
    assert (copy.content_string, copy.user, copy.group) == ("shared plan\n", "alice", "plasma-team")
    host.run_expect([0], "rm -rf /srv/projects/team-project/restored")


@pytest.mark.release_independent
def test_a_large_restore_shows_its_progress_and_can_be_cancelled(host, hub, yesterday):
    user = RestorePage(hub, "alice", "alice-pass")
    answer = user.restore(yesterday["id"], "big.bin")
    assert answer.status_code == 302
    location = answer.headers["Location"]
    deadline = time.monotonic() + 60
    while not (written := re.search(r"<progress max=\"2147483648\" value=\"([1-9]\d*)\"", page := user.job(location))):
        assert time.monotonic() < deadline and "state-running" in page, page
        time.sleep(0.2)
    assert int(written.group(1)) < 2**31
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page).group(1)
    user.session.post(requests.compat.urljoin(user.base, location + "/cancel"), data={"_xsrf": xsrf}, timeout=60)
    assert "Cancelled: the partial copy was removed" in user.finished(location)
    assert host.check_output("find /home/alice/restored -name big.bin") == ""
    assert "cancelled: alice restore of /home/alice/big.bin" in host.check_output("journalctl -t plasma-restore --no-pager -o cat")
    # Another user cannot see it.
    assert RestorePage(hub, "bob", "bob-pass").session.get(requests.compat.urljoin(user.base, location), timeout=60).status_code == 404


@pytest.mark.release_independent
def test_the_page_can_be_turned_off(hub):
    def settles_on(expected: int) -> int:
        """What the page's address answers bob, once it answers expected or a minute has passed: the hub answers before
        the proxy has its services' routes added or removed (on a busy host for seconds)."""
        session, _ = hub.login("bob", "bob-pass")
        deadline = time.monotonic() + 60
        while (status := session.get(f"{hub.base_url}/services/restore/", timeout=60).status_code) != expected and time.monotonic() < deadline:
            time.sleep(1)
        return status

    off = run_playbook("plasma.platform.backup", {"backup_restore_page": False}, "--tags", "backup")
    assert off.returncode == 0, off.stdout + off.stderr
    try:
        hub.wait_until_up()
        assert settles_on(404) == 404
    finally:
        on = run_playbook("plasma.platform.backup", {}, "--tags", "backup")
        assert on.returncode == 0, on.stdout + on.stderr
        hub.wait_until_up()
    assert settles_on(200) == 200
