# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""Filters shared by the roles and the tests: checking environment image references."""

from __future__ import annotations

from ansible_collections.plasma.platform.plugins.module_utils._environment_images import parse_images


def invalid_images(images: list) -> list[str]:
    """One message per image reference Docker would refuse (empty when all are valid)."""
    return parse_images(list(images))[1]


class FilterModule:
    def filters(self) -> dict:
        return {"invalid_images": invalid_images}
