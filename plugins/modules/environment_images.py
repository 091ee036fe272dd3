#!/usr/bin/python
# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: environment_images
short_description: Pull a host's environment images ahead of time, in parallel, only when needed
version_added: 0.1.0
description:
  - Makes sure every declared environment image is present on the Docker host, so that a user's
    first start does not wait on a registry inside the spawner's start timeout.
  - Every reference is validated before anything is pulled; one invalid reference fails the task
    and pulls nothing.
  - Images are handled in parallel with retries and a per-image time limit. When some images fail,
    the results of all of them are still returned, and the message names each failed image.
  - With O(policy=latest) the registry is asked for the current digest only, and layers are downloaded
    only when it differs from the local image's.
  - Registry credentials come from the usual Docker client configuration (C(~/.docker/config.json)
    of the user the module runs as, or C(DOCKER_CONFIG)).
author:
  - plasma.platform maintainers (!UNKNOWN)
requirements:
  - Docker SDK for Python (Debian's C(python3-docker), installed by the P(plasma.platform.docker#role) role)
options:
  images:
    description:
      - The images to have on the host, as references (V(registry/name:tag), V(name@sha256:...)),
        or dictionaries with a O(images[].name) and an optional O(images[].platform).
      - A reference without tag means V(latest), as with C(docker pull).
    type: list
    elements: raw
    required: true
    suboptions:
      name:
        description: The image reference.
        type: str
        required: true
      platform:
        description: The platform to pull, V(os/arch[/variant]), for example V(linux/arm64).
        type: str
      policy:
        description: This image's O(policy), over the module's (V(missing) for an image whose tag never moves).
        type: str
        choices: [missing, latest]
  policy:
    description:
      - V(missing) pulls only images that are not on the host; it never contacts a registry for present images.
      - V(latest) asks the registry for each image's current digest and pulls when it differs from the local one.
    type: str
    choices: [missing, latest]
    default: missing
  parallel:
    description: How many images are handled at the same time.
    type: int
    default: 4
  retries:
    description: How many times a failed registry request is tried again (errors such as an unknown image are not).
    type: int
    default: 3
  retry_delay:
    description: Seconds before the first retry; each further retry waits twice as long.
    type: float
    default: 2.0
  timeout:
    description: Seconds one image may take, all tries included, before it is reported as failed.
    type: int
    default: 900
  prune:
    description:
      - Remove images this module pulled earlier that are no longer in O(images).
      - An image used by any container (running or stopped) is kept and reported as V(kept_in_use).
        Images the module never managed are never touched.
    type: bool
    default: false
  check_server:
    description:
      - Start each image once, when it is new to the host (as V(nobody), without network, at most 120 s), and
        require what a user's server needs of it - C(jupyterhub-singleuser) on its C(PATH), importing JupyterHub
        2.0 or later, and C(setpriv), C(tar) and C(awk) for the spawner's entrypoint - so that an image that could
        not serve fails the task, naming what is missing, instead of failing the first user who picks it.
      - The JupyterHub version found is returned as RV(images[].server); an image id that passed is not started again.
    type: bool
    default: false
  disk_limits:
    description:
      - With O(check_server), the disk limit of each image's servers (image reference as in O(images) to a size such as
        V(10G); V(0) or absent for none), given to its check's container as Docker's C(--storage-opt size).
      - An engine that cannot limit a container's disk (only the C(btrfs) and C(zfs) storage drivers and C(overlay2)
        on XFS with C(pquota) can), or, on C(btrfs), a limit below the image's own size, fails the image, saying so.
        A new limit is checked again.
    type: dict
    default: {}
  state_file:
    description:
      - Where the module records the images it manages, for O(prune), and the image ids that passed O(check_server).
    type: path
    default: /var/lib/plasma-platform/environment_images.json
  docker_host:
    description: The Docker daemon to talk to. Defaults to E(DOCKER_HOST), else the local socket.
    type: str
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying the host.
    support: full
    details:
      - Nothing is pulled or removed; with O(policy=latest) the registry is still asked for digests.
      - Where the Docker Engine or its Python SDK is not there yet (a fresh host whose engine the same run only
        plans to install), every image is reported as V(would_pull), with a warning, instead of failing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Shows each image's digest before and after (V(absent) when not on the host).
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
    details: A second run with the same images reports V(present) for each and C(changed=false).
notes:
  - Pulling through the Docker Engine uses the engine's own registry configuration (mirrors, insecure registries, proxy).
seealso:
  - module: community.docker.docker_image_pull
"""

EXAMPLES = r"""
- name: Pull the environment images that are not on the host yet
  plasma.platform.environment_images:
    images:
      - plasmabio/template-python:2024.1
      - name: registry.example.org/lab/r-env:4.4
        platform: linux/amd64

- name: Follow moving tags, pull only what changed, and remove images no longer offered
  plasma.platform.environment_images:
    images: "{{ environments_list | map(attribute='image') }}"
    policy: latest
    prune: true
  register: pulled

- name: Show what happened to each image
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.action }} in {{ item.seconds }} s"
  loop: "{{ pulled.images }}"
"""

RETURN = r"""
images:
  description: One entry per declared image (and per pruned image), in the order given.
  returned: always, also when some images failed
  type: list
  elements: dict
  contains:
    name:
      description: The reference as given.
      type: str
      sample: plasmabio/template-python:2024.1
    action:
      description:
        - V(pulled) (was absent), V(updated) (a new digest), V(present) (nothing to do), V(removed) (pruned),
          V(kept_in_use) (not pruned, a container uses it), V(failed).
        - In check mode V(would_pull), V(would_update), V(would_remove) instead.
      type: str
      sample: pulled
    id:
      description: The local image ID after the run (before it, for removed images); null when absent.
      type: str
      sample: sha256:0b4ff5a0e6ba8a0c2e4f3a6f7bd5ea2fd1b38b1f4dbfc9f6b5b9d4e7f3b5f9a1
    digest:
      description: The registry digest of the local image (after an update, the new one); null when unknown.
      type: str
      sample: sha256:5d8a7bd1f5b1c4a35a1e0c1a9d0f6e7b1b9e5c4d3a2b1c0d9e8f7a6b5c4d3e2f
    platform:
      description: The requested platform, when one was given.
      type: str
      returned: when requested
      sample: linux/amd64
    seconds:
      description: Wall time spent on this image.
      type: float
      sample: 3.42
    attempts:
      description: Registry requests made for this image, retries included (0 when the registry was not needed).
      type: int
      sample: 1
    server:
      description: The JupyterHub version of the image's C(jupyterhub-singleuser).
      type: str
      returned: with O(check_server), when the image has one
      sample: 5.2.1
    error:
      description: Why this image failed.
      type: str
      returned: when action is failed
      sample: "Get http://registry.local:5000/v2/: connection refused"
"""

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.plasma.platform.plugins.module_utils._environment_images import (
    DISK_LIMIT_HELP,
    SERVER_CHECK,
    ImageSpec,
    Outcome,
    action_name,
    backoff_delays,
    check_key,
    decide,
    diff,
    disk_limit_bytes,
    is_permanent,
    local_digest,
    parse_images,
    parse_reference,
    server_problem,
    summarize,
)

try:
    import docker
    import docker.errors

    DOCKER_IMPORT_ERROR = None
except ImportError as import_error:
    DOCKER_IMPORT_ERROR = import_error


class ImageTimeout(Exception):
    """An image took longer than its time limit."""


def client_for(module: AnsibleModule) -> docker.APIClient:
    """One client shared by all workers (its connection pool has a connection for each)."""
    base_url = module.params["docker_host"] or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    return docker.APIClient(base_url=base_url, version="auto", timeout=module.params["timeout"], max_pool_size=module.params["parallel"] + 1)


def list_local(api) -> dict[str, dict]:
    """Every local image by tag, in one request: {'name:tag': {'id', 'repo_digests'}}."""
    images = {}
    for image in api.images():
        for tag in image.get("RepoTags") or []:
            images[tag] = {"id": image["Id"], "repo_digests": image.get("RepoDigests") or []}
    return images


def inspect_local(api, spec: ImageSpec, listing: dict[str, dict] | None = None) -> dict:
    """{'id', 'digest'} of the local image, or {} when it is absent. The listing answers most
    look-ups; other spellings (digests, docker.io/library/...) ask the Engine, which normalizes them."""
    found = (listing or {}).get(str(spec.reference))
    if found is None:
        try:
            image = api.inspect_image(str(spec.reference))
        except docker.errors.ImageNotFound:
            return {}
        found = {"id": image["Id"], "repo_digests": image.get("RepoDigests") or []}
    return {"id": found["id"], "digest": local_digest(found["repo_digests"], spec.reference)}


def with_retries(module: AnsibleModule, outcome: Outcome, deadline: float, request):
    """Call request() until it succeeds, a permanent error occurs, or tries or time run out."""
    delays = backoff_delays(module.params["retries"], module.params["retry_delay"])
    while True:
        outcome.attempts += 1
        try:
            return request()
        except ImageTimeout:
            raise
        except Exception as error:  # Docker API errors, and connection errors from requests/urllib3
            if is_permanent(str(error)) or not delays or time.monotonic() + delays[0] > deadline:
                raise
        time.sleep(delays.pop(0))


def pull(api, spec: ImageSpec, deadline: float) -> None:
    """Pull one image, streaming the Engine's progress so a deadline and errors are noticed."""
    for event in api.pull(spec.reference.repository, tag=spec.reference.pull_tag, stream=True, decode=True, platform=spec.platform):
        if "error" in event:
            raise docker.errors.APIError(event["error"])
        if time.monotonic() > deadline:
            raise ImageTimeout("time limit reached while pulling")


def check_server(api, image_id: str, disk_limit: int | None = None, timeout: int = 120) -> tuple[str | None, str | None]:
    """(JupyterHub version, problem or None) of an image, from SERVER_CHECK run in a throwaway container (with the disk
    limit its servers get, which the engine may refuse)."""
    storage = {"storage_opt": {"size": str(disk_limit)}} if disk_limit else {}
    try:
        container = api.create_container(
            image_id,
            entrypoint=["/bin/sh", "-c", SERVER_CHECK],
            command=[],
            user="65534:65534",
            network_disabled=True,
            host_config=api.create_host_config(mem_limit="512m", cap_drop=["ALL"], security_opt=["no-new-privileges"], **storage),
        )
    except docker.errors.APIError as error:
        if not disk_limit:
            raise
        return None, DISK_LIMIT_HELP.format(error=error.explanation or error)
    try:
        api.start(container)
        try:
            api.wait(container, timeout=timeout)
        except Exception:  # the Engine's wait ran out of time
            return None, f"the check did not finish within {timeout} s"
        return server_problem(api.logs(container).decode(errors="replace"))
    finally:
        api.remove_container(container, force=True)


def ensure_image(module: AnsibleModule, api, listing: dict[str, dict], spec: ImageSpec, checked: dict[str, str], disk_limit: int | None) -> Outcome:
    started = time.monotonic()
    deadline = started + module.params["timeout"]
    outcome = Outcome(name=spec.name, action="failed", platform=spec.platform)
    try:
        local = inspect_local(api, spec, listing)
        outcome.before = dict(local)
        remote_digest = None
        policy = spec.policy or module.params["policy"]
        if local and policy == "latest" and not spec.reference.digest:
            distribution = with_retries(module, outcome, deadline, lambda: api.inspect_distribution(str(spec.reference)))
            remote_digest = distribution["Descriptor"]["digest"]
        decision = decide(policy, bool(local), local.get("digest"), remote_digest)
        outcome.action = action_name(decision, module.check_mode)
        if decision == "present" or module.check_mode:
            outcome.id, outcome.digest = local.get("id"), remote_digest if decision == "update" else local.get("digest")
        else:
            with_retries(module, outcome, deadline, lambda: pull(api, spec, deadline))
            after = inspect_local(api, spec)
            outcome.id, outcome.digest = after.get("id"), after.get("digest")
            if decision == "update" and after.get("id") == local.get("id"):
                outcome.action = "present"  # the registry's new digest held the same image
        if module.params["check_server"] and outcome.id and not module.check_mode:
            outcome.check_key = check_key(outcome.id, disk_limit)
            outcome.server = checked.get(outcome.check_key)
            if outcome.server is None:
                outcome.server, problem = check_server(api, outcome.id, disk_limit)
                if problem:
                    outcome.action, outcome.error = "failed", problem
    except Exception as error:  # reported per image, never as a traceback
        outcome.action, outcome.error = "failed", str(error) or type(error).__name__
    outcome.seconds = time.monotonic() - started
    return outcome


def read_state(path: str) -> dict:
    """{'images': [references managed], 'checked': {image id: JupyterHub version}}."""
    try:
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
    except FileNotFoundError:
        state = {}
    return {"images": list(state.get("images", [])), "checked": dict(state.get("checked", {}))}


def write_state(path: str, state: dict) -> None:
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump({"images": sorted(set(state["images"])), "checked": dict(sorted(state["checked"].items()))}, handle, indent=2)
    os.replace(temporary, path)


def prune(module: AnsibleModule, api, managed_before: list[str], wanted: set[str]) -> list[Outcome]:
    """Remove images this module managed that are no longer wanted, unless a container uses them."""
    outcomes = []
    used = {container["ImageID"] for container in api.containers(all=True)}
    for name in sorted(set(managed_before) - wanted):
        started = time.monotonic()
        outcome = Outcome(name=name, action="present")
        try:
            local = inspect_local(api, ImageSpec(name=name, reference=parse_reference(name)))
            if not local:
                continue  # removed by someone else: nothing to report
            outcome.before = dict(local)
            outcome.id, outcome.digest = local["id"], local["digest"]
            if local["id"] in used:
                outcome.action = action_name("keep", module.check_mode)
            else:
                outcome.action = action_name("remove", module.check_mode)
                if not module.check_mode:
                    api.remove_image(name)
        except Exception as error:  # reported per image, never as a traceback
            outcome.action, outcome.error = "failed", str(error)
        outcome.seconds = time.monotonic() - started
        outcomes.append(outcome)
    return outcomes


def exit_without_engine(module: AnsibleModule, specs: list[ImageSpec], why: str) -> None:
    """Check mode on a host where the Docker role has only planned the engine: every image would be pulled."""
    module.warn(f"{why}: in check mode, every image is reported as would_pull")
    outcomes = [Outcome(name=spec.name, action=action_name("pull", True), platform=spec.platform) for spec in specs]
    result = {"changed": bool(outcomes), "images": [o.as_result() for o in outcomes]}
    if module._diff:
        result["diff"] = diff(outcomes)
    module.exit_json(**result)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "images": {"type": "list", "elements": "raw", "required": True},
            "policy": {"type": "str", "choices": ["missing", "latest"], "default": "missing"},
            "parallel": {"type": "int", "default": 4},
            "retries": {"type": "int", "default": 3},
            "retry_delay": {"type": "float", "default": 2.0},
            "timeout": {"type": "int", "default": 900},
            "prune": {"type": "bool", "default": False},
            "check_server": {"type": "bool", "default": False},
            "disk_limits": {"type": "dict", "default": {}},
            "state_file": {"type": "path", "default": "/var/lib/plasma-platform/environment_images.json"},
            "docker_host": {"type": "str"},
        },
        supports_check_mode=True,
    )
    for option in ("parallel", "timeout"):
        if module.params[option] < 1:
            module.fail_json(msg=f"{option} must be at least 1, got {module.params[option]}")
    if module.params["retries"] < 0 or module.params["retry_delay"] < 0:
        module.fail_json(msg="retries and retry_delay cannot be negative")

    specs, errors = parse_images(module.params["images"])
    if errors:
        module.fail_json(msg=f"{len(errors)} invalid image(s), nothing was pulled: " + "; ".join(errors), invalid=errors)
    disk_limits, bad_limits = {}, []  # in bytes, by image reference as the operator wrote it
    for image, limit in module.params["disk_limits"].items():
        try:
            disk_limits[image] = disk_limit_bytes(limit)
        except ValueError as error:
            bad_limits.append(f"{image}: {error}")
    if bad_limits:
        module.fail_json(msg="invalid disk_limits, nothing was pulled: " + "; ".join(bad_limits))
    if DOCKER_IMPORT_ERROR is not None:
        if module.check_mode:
            exit_without_engine(module, specs, "the Docker SDK for Python is not installed yet")
        module.fail_json(msg=missing_required_lib("docker (Debian: python3-docker)"), exception=str(DOCKER_IMPORT_ERROR))

    try:
        api = client_for(module)  # asks the Engine for its API version
        listing = list_local(api)
    except Exception as error:
        if module.check_mode:
            exit_without_engine(module, specs, f"the Docker Engine does not answer ({error})")
        module.fail_json(msg=f"cannot talk to the Docker Engine: {error}")
    state = read_state(module.params["state_file"])
    managed_before = state["images"]
    try:
        with ThreadPoolExecutor(max_workers=module.params["parallel"]) as pool:
            outcomes = list(pool.map(lambda spec: ensure_image(module, api, listing, spec, state["checked"], disk_limits.get(spec.name)), specs))
        wanted = {str(spec.reference) for spec in specs}
        if module.params["prune"]:
            outcomes += prune(module, api, managed_before, wanted)
    except Exception as error:  # the Engine itself is unreachable
        module.fail_json(msg=f"cannot talk to the Docker Engine: {error}")
    finally:
        api.close()
    if not module.check_mode:
        still_here = [o.name for o in outcomes[len(specs) :] if o.action in ("kept_in_use", "failed")]
        images = sorted(wanted | set(still_here) | (set() if module.params["prune"] else set(managed_before)))
        checked = dict(state["checked"])
        if module.params["check_server"]:  # the ids that passed, of the images declared now
            declared = outcomes[: len(specs)]
            checked = {key: v for key, v in checked.items() if key in {o.check_key for o in declared}}
            checked.update({o.check_key: o.server for o in declared if o.server and o.action != "failed"})
        if images != sorted(set(managed_before)) or checked != state["checked"]:
            write_state(module.params["state_file"], {"images": images, "checked": checked})

    changed, failure = summarize(outcomes)
    result = {"changed": changed, "images": [o.as_result() for o in outcomes]}
    if module._diff:
        result["diff"] = diff(outcomes)
    if failure:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
