"""role_options: a variable that looks like a misspelt option of the role stops the run; others pass."""

from pathlib import Path

import yaml

from ansible_collections.plasma.platform.plugins.action.role_options import misspelt_options


def role(tmp_path: Path, name: str, options: list[str]) -> str:
    meta = tmp_path / name / "meta"
    meta.mkdir(parents=True)
    (meta / "argument_specs.yml").write_text(yaml.safe_dump({"argument_specs": {"main": {"options": {o: {} for o in options}}}}))
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
