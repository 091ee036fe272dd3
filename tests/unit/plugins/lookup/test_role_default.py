"""role_default: one role's default read where it is written, and every option that falls back to it documented with
that same value."""

import re
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleLookupError

from ansible_collections.plasma.platform.plugins.lookup.role_default import ROLES, role_default


def test_the_owning_role_is_the_longest_role_name_the_option_starts_with():
    assert role_default("hub_prefix") == "/opt/tljh"
    assert role_default("shared_data_path") == "/srv/data"
    assert role_default("users_archive_dir") == "/var/backups/plasma-users"


@pytest.mark.parametrize("option", ["nothing_here", "hub_no_such_option"])
def test_an_unknown_option_is_an_error_naming_it(option):
    with pytest.raises(AnsibleLookupError, match=option):
        role_default(option)


FALLBACK = re.compile(r"^(\w+): \"\{\{ (\w+) \| default\(lookup\('plasma\.platform\.role_default', '(\w+)'\)\) \}\}\"$", re.MULTILINE)


def fallbacks() -> list[tuple[Path, str, str]]:
    """(role, option, the other role's option) for each option whose default is another role's option."""
    return [
        (role, option, other)
        for role in sorted(path for path in ROLES.iterdir() if path.is_dir())
        for option, used, other in FALLBACK.findall((role / "defaults" / "main.yml").read_text())
        if used == other
    ]


def test_the_fallbacks_are_found():
    assert {option for _, option, _ in fallbacks()} >= {"backup_hub_prefix", "environments_hub_prefix", "hub_users_group"}


@pytest.mark.parametrize(("role", "option", "other"), fallbacks(), ids=lambda value: getattr(value, "name", value))
def test_an_option_that_falls_back_to_another_role_s_documents_its_value(role, option, other):
    spec = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"][option]
    assert spec["default"] == role_default(other)
    assert f"C({other}) when that is set" in " ".join(spec["description"] if isinstance(spec["description"], list) else [spec["description"]])
