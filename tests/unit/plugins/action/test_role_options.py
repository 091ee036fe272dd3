"""role_options: a variable that looks like a misspelt option of the role stops the run; others pass."""

from pathlib import Path

import yaml

from ansible_collections.plasma.platform.plugins.action.role_options import booleans_given_as_text, misspelt_options, retired_options


def role(tmp_path: Path, name: str, options: list[str]) -> str:
    meta = tmp_path / name / "meta"
    meta.mkdir(parents=True)
    specs = {o: {"type": "bool"} if o.endswith("_enabled") else {} for o in options}
    (meta / "argument_specs.yml").write_text(yaml.safe_dump({"argument_specs": {"main": {"options": specs}}}))
    return str(tmp_path / name)


def test_a_misspelt_option_is_named_with_the_option_it_resembles(tmp_path):
    docker = role(tmp_path, "docker", ["docker_source", "docker_daemon_options"])
    names = {"docker_sorce": "upstream", "docker_source": "distro", "docker_daemon_option": {}}
    assert misspelt_options(docker, names) == [
        "docker_daemon_option (did you mean docker_daemon_options?)",
        "docker_sorce (did you mean docker_source?)",
    ]


def test_other_variables_with_the_prefix_and_other_prefixes_pass(tmp_path):
    docker = role(tmp_path, "docker", ["docker_source"])
    # community.docker's connection variables, and another role's options.
    assert misspelt_options(docker, {"docker_host": "unix://", "docker_tls": False, "hub_sorce": 1}) == []


def test_options_of_earlier_releases_are_named_with_what_replaced_them(tmp_path):
    hub = role(tmp_path, "hub", ["hub_python_packages"])
    retired = {
        "hub_packages": {"release": "2.0.0", "replaced_by": "hub_python_packages"},
        "hub_proxy": {"release": "2.1.0", "why": "the proxy is chosen by the distribution"},
    }
    (Path(hub) / "meta" / "retired_options.yml").write_text(yaml.safe_dump(retired))
    names = {"hub_packages": ["jupyterhub==5.5.4"], "hub_proxy": "chp", "hub_python_packages": []}
    assert retired_options(hub, names) == [
        "hub_packages (renamed hub_python_packages in 2.0.0)",
        "hub_proxy (removed in 2.1.0: the proxy is chosen by the distribution)",
    ]
    assert retired_options(hub, {"hub_python_packages": []}) == []
    assert retired_options(role(tmp_path, "docker", ["docker_source"]), names) == []  # a role without the file


def test_a_boolean_option_given_as_text_is_named_and_a_template_or_a_boolean_passes(tmp_path):
    monitoring = role(tmp_path, "monitoring", ["monitoring_enabled", "monitoring_retention"])
    assert booleans_given_as_text(monitoring, {"monitoring_enabled": "true", "monitoring_retention": "15d"}) == ["monitoring_enabled"]
    assert booleans_given_as_text(monitoring, {"monitoring_enabled": True}) == []
    assert booleans_given_as_text(monitoring, {"monitoring_enabled": "{{ groups['monitored'] | length > 0 }}"}) == []
