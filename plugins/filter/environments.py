# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""Filters shared by the roles and the tests: image references and environment folder names."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.plasma.platform.plugins.module_utils._environment_images import parse_images, parse_reference

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")


def invalid_images(images: list) -> list[str]:
    """One message per image reference Docker would refuse (empty when all are valid)."""
    return parse_images(list(images))[1]


def folder_format_error(folder_format: str) -> str | None:
    """Why a folder format could lead outside the user's home, or None when it cannot."""
    if "/" in folder_format or ".." in folder_format:
        return f"the folder format {folder_format!r} may not contain '/' or '..'"
    try:
        environment_folder("example/image:tag", folder_format)
    except AnsibleFilterError as error:
        return str(error)
    return None


def environment_folder(image: str, folder_format: str = "{image}") -> str:
    """The folder in the user's home that belongs to an image.

    Placeholders: {image} (the reference), {repository} (without tag or digest), {tag};
    '/', ':' and '@' become '-': plasmabio/template-python:12345 -> plasmabio-template-python-12345.
    """
    try:
        reference = parse_reference(image)
    except ValueError as error:
        raise AnsibleFilterError(f"image {image!r} is not a valid reference: {error}") from None

    def safe(text: str) -> str:
        return re.sub(r"[/:@]", "-", text)

    try:
        name = folder_format.format(image=safe(image), repository=safe(reference.repository), tag=reference.tag or "latest")
    except (KeyError, IndexError, ValueError) as error:
        raise AnsibleFilterError(f"the folder format {folder_format!r} is not valid ({error}); use {{image}}, {{repository}} and {{tag}}") from None
    if not _SAFE_NAME.match(name) or ".." in name:
        raise AnsibleFilterError(f"the folder name {name!r} made from {image!r} is not a plain folder name")
    return name


def with_folders(environments: list[dict], folder_format: str = "{image}") -> list[dict]:
    """The environments, each with its 'folder' (see environment_folder), from its own 'folder' format when it has one
    (a fixed name keeps a folder across the image's tags)."""
    return [{**environment, "folder": environment_folder(environment["image"], environment.get("folder") or folder_format)} for environment in environments]


def with_builds(environments: list[dict], builds: list[dict] | None = None) -> list[dict]:
    """The environments, those built from Git (with a 'repository') with their image tagged with the commit
    P(plasma.platform.environment_builds#module) built, and that 'commit' and the repository's public URL; before
    their build, tagged V(unbuilt)."""
    built = {build["image"].rpartition(":")[0]: build for build in builds or [] if build.get("image")}
    resolved = []
    for environment in environments:
        if environment.get("repository"):
            build = built.get(environment["image"], {})
            image = build.get("image") or f"{environment['image']}:unbuilt"
            environment = {**environment, "image": image, "commit": build.get("commit", ""), "repository": build.get("repository", "")}
        resolved.append(environment)
    return resolved


def image_pulls(environments: list[dict]) -> list:
    """The images of P(plasma.platform.environment_images#module) for these environments: a built environment's
    image (tagged with its commit, which never moves) with policy V(missing), no registry asked about it."""
    return [{"name": environment["image"], "policy": "missing"} if environment.get("repository") else environment["image"] for environment in environments]


def shared_folders(folders: list[dict], names: bool = False) -> list[dict]:
    """The shared_data role's folders as {path, group} ({name, path, group} with names), the path defaulting to
    /srv/projects/<name>."""
    return [
        {**({"name": folder["name"]} if names else {}), "path": folder.get("path") or f"/srv/projects/{folder['name']}", "group": folder["group"]}
        for folder in folders
    ]


class FilterModule:
    def filters(self) -> dict:
        return {
            "invalid_images": invalid_images,
            "environment_folder": environment_folder,
            "folder_format_error": folder_format_error,
            "with_folders": with_folders,
            "with_builds": with_builds,
            "image_pulls": image_pulls,
            "shared_folders": shared_folders,
        }
