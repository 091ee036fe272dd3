"""The collection's upgrade: on the host the previous release built (converge.yml), a user's server runs and has
saved work, a token was made, a group folder holds the team's notes and a backup was taken. This checkout then
converges over it - first with --check --diff, as docs/upgrading.md tells operators - and everything is kept: the
server runs on, untouched; the token, the files, the backup and the hub's users are there; a new server starts; a
second run changes nothing. (The previous release installed JupyterHub 5.5.4, this checkout 6.1.1: the major upgrade
happens here too, under the hub role's guard.)"""

import json

from tests.support.hub import UserServer
from tests.support.scenario import as_user, changed_count, run_playbook, scenario_hub

testinfra_hosts = ["ansible://all"]


def test_this_checkout_converges_over_the_previous_release_keeping_what_users_made(host):
    hub = scenario_hub()
    hub.wait_until_up()
    token = hub.token("alice", "alice-pass")
    hub.token("bob", "bob-pass")  # bob has logged in too: the hub's database holds both
    alice = UserServer(hub, "alice", token)
    alice.start("Environment A")
    alice.run_python("open('/home/alice/analysis.txt', 'w').write('made before the upgrade')")
    as_user(host, "bob", "echo 'the team notes' > /srv/projects/team-project/notes.txt")
    container = host.check_output("docker inspect --format '{{.Id}} {{.State.StartedAt}}' jupyter-alice")
    host.run_expect([0], "plasma-backup")
    snapshots = json.loads(host.check_output("plasma-backup restic snapshots --json"))
    try:
        check = run_playbook("plasma.platform.site", None, "--check", "--diff")
        assert check.returncode == 0, check.stdout + check.stderr

        upgrade = run_playbook("plasma.platform.site")
        assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr

        # alice's server ran through it: the same container, never restarted, still answering through the hub.
        assert host.check_output("docker inspect --format '{{.Id}} {{.State.StartedAt}}' jupyter-alice") == container
        assert alice.run_python("print(open('/home/alice/analysis.txt').read(), end='')") == "made before the upgrade"
        assert hub.api(token).get(f"{hub.base_url}/hub/api/user", timeout=10).json()["name"] == "alice"
        assert host.file("/srv/projects/team-project/notes.txt").content_string == "the team notes\n"
        kept = {snapshot["id"] for snapshot in json.loads(host.check_output("plasma-backup restic snapshots --json"))}
        assert {snapshot["id"] for snapshot in snapshots} <= kept
        users = hub.api(token).get(f"{hub.base_url}/hub/api/users", timeout=10).json()
        assert {"alice", "bob"} <= {user["name"] for user in users}
        # A server starts on the upgraded host (its JupyterHub may be a new major version).
        bob = UserServer(hub, "bob", hub.token("bob", "bob-pass"))
        bob.start("Environment A")
        assert bob.run_python("print(open('/srv/projects/team-project/notes.txt').read(), end='')") == "the team notes\n"
        bob.stop()

        again = run_playbook("plasma.platform.site")
        assert again.returncode == 0 and changed_count(again.stdout) == 0, again.stdout + again.stderr
    finally:
        alice.stop()
