"""TLJH installed by its official installer and configured by the collection's fragments."""

from tests.support.scenario import scenario_hub

testinfra_hosts = ["ansible://all"]


def test_the_requested_tljh_release_is_installed(host):
    version = host.check_output("/opt/tljh/hub/bin/python -c \"import importlib.metadata as m; print(m.version('the-littlest-jupyterhub'))\"")
    assert version == "2.0.0"


def test_dockerspawner_is_in_tljh_hub_environment(host):
    assert host.run("/opt/tljh/hub/bin/python -c 'import dockerspawner'").rc == 0


def test_our_fragments_are_loaded_last_by_tljh(host):
    assert host.file("/opt/tljh/config/jupyterhub_config.d/10-plasma-hub.py").exists
    assert host.file("/opt/tljh/config/jupyterhub_config.d/30-plasma-spawner.py").exists
    assert host.service("jupyterhub").is_running


def test_login_through_tljh_proxy(host):
    hub = scenario_hub()
    hub.wait_until_up(timeout=120)
    _, answer = hub.login("alice", "alice-pass")
    assert answer.status_code == 302
