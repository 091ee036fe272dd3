# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""Filters that shape files for plasma.platform.file_set."""

from __future__ import annotations

import posixpath


def package_files(contents: list, sources: list, package_dir: str) -> list[dict]:
    """A Python package's folder and modules as file_set entries, root's, readable by all: the folder, then each
    source's content under the source's file name."""
    owned = {"owner": "root", "group": "root"}
    return [
        {"path": package_dir, "state": "directory", **owned, "mode": "0755"},
        *(
            {"path": posixpath.join(package_dir, posixpath.basename(source)), "content": content, **owned, "mode": "0644"}
            for source, content in zip(sources, contents, strict=True)
        ),
    ]


class FilterModule:
    def filters(self) -> dict:
        return {"package_files": package_files}
