"""Role READMEs: their options tables are written by scripts/role-docs from meta/argument_specs.yml (scripts/test checks
they follow it); here, that every option is in a table and the defaults file sets exactly the options."""

import re
from pathlib import Path

import pytest
import yaml

ROLES = sorted(path for path in (Path(__file__).resolve().parents[2] / "roles").iterdir() if path.is_dir())


@pytest.mark.parametrize("role", ROLES, ids=lambda path: path.name)
def test_readme_lists_exactly_the_argument_spec_options(role):
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    options = set(specs["main"]["options"])
    assert specs["validate"]["options"].keys() == options  # site.yml validates with the same spec
    first_cells = re.findall(r"^\| ([^|]+)\|", (role / "README.md").read_text(), flags=re.MULTILINE)
    documented = {name for cell in first_cells for name in re.findall(r"`([a-z0-9_]+)`", cell)}
    documented = {name for name in documented if name.startswith(role.name + "_")}
    assert documented == options, f"only in README: {documented - options}; undocumented: {options - documented}"


@pytest.mark.parametrize("role", ROLES, ids=lambda path: path.name)
def test_defaults_define_exactly_the_options(role):
    options = set(yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"])
    defaults = set(yaml.safe_load((role / "defaults" / "main.yml").read_text()))
    assert defaults == options
