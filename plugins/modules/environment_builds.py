#!/usr/bin/python
# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: environment_builds
short_description: Build environment images from Git repositories with repo2docker, once per commit
version_added: 0.2.0
description:
  - Resolves each build's Git O(builds[].ref) to a commit, and builds the image V(<image>:<first 12 hex digits of the
    commit>) with C(jupyter-repo2docker) from that commit unless the Docker host already holds it. A ref that has not
    moved builds nothing; the image of a new commit is a new image, and the previous one stays.
  - repo2docker reads the repository as it reads it on Binder - C(binder/) or the root's C(Dockerfile),
    C(environment.yml), C(requirements.txt) and so on.
  - Each build's output is kept on the host, in O(log_dir). A failed build fails the task with the end of that output;
    the other builds still run, and no image is tagged for the failed commit.
  - Credentials in a repository's URL (V(https://user:token@host/repo.git)) are used to fetch it but never reported,
    nor written into the image's labels.
author:
  - plasma.platform maintainers (!UNKNOWN)
requirements:
  - C(git) and the Docker CLI on the host; C(jupyter-repo2docker) (the P(plasma.platform.environments#role) role
    installs them).
options:
  builds:
    description: The images to build.
    type: list
    elements: dict
    required: true
    suboptions:
      image:
        description: The image's name without a tag (V(localhost:5000/courses/physics)); the tag is the commit.
        type: str
        required: true
      repository:
        description: The Git repository, as C(git clone) takes it (V(https://...), V(ssh://...), V(file:///...)).
        type: str
        required: true
      ref:
        description: A branch, a tag, a full ref name (V(refs/heads/main)) or a full 40-digit commit.
        type: str
        default: HEAD
  repo2docker:
    description: The C(repo2docker) program.
    type: path
    default: repo2docker
  user_id:
    description: The uid repo2docker gives the image's user (its C(NB_UID)); servers run as each user's own uid anyway.
    type: int
    default: 1000
  user_name:
    description: The name of the image's user (its C(NB_USER)), whose home holds the bundled files.
    type: str
    default: jovyan
  log_dir:
    description: Where each build's output is kept, as C(<image>-<commit>.log).
    type: path
    default: /var/log/plasma-platform/builds
  push:
    description:
      - Push each image to the registry its name starts with, also one built earlier (the registry may have lost it),
        for the hosts that pull it from there - a fleet's nodes. Layers the registry holds are not sent again.
    type: bool
    default: false
  timeout:
    description: Seconds one build may take, fetching included.
    type: int
    default: 3600
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying the host.
    support: full
    details: Refs are still resolved (C(git ls-remote) changes nothing); what would be built is reported as V(would_build).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The images built (or that would be), each with its repository and commit.
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
    details: Unless a ref moved in between, which is what the module is for.
seealso:
  - module: plasma.platform.environment_images
"""

EXAMPLES = r"""
- name: Build the course's environment from its main branch
  plasma.platform.environment_builds:
    builds:
      - image: localhost:5000/courses/physics
        repository: https://git.example.org/courses/physics.git
        ref: main
  register: built
"""

RETURN = r"""
builds:
  description: One entry per build, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    image:
      description: The image, tagged with the commit.
      type: str
      sample: localhost:5000/courses/physics:0a1b2c3d4e5f
    commit:
      description: The full commit the ref resolved to.
      type: str
    repository:
      description: The repository's URL, without credentials.
      type: str
    action:
      description: V(present) (already built), V(built), V(would_build) (check mode) or V(failed).
      type: str
    pushed:
      description: With O(push), whether the registry lacked some of the image and got it now.
      type: bool
    log:
      description: The build's output on the host (for V(built) and V(failed)).
      type: str
    error:
      description: Why it failed.
      type: str
      returned: when failed
"""

import os
import re
import subprocess
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.plasma.platform.plugins.module_utils._environment_images import parse_reference

COMMIT = re.compile(r"^[0-9a-f]{40}$")
# Never a prompt for a password: a repository that needs credentials it lacks fails at once.
GIT_ENVIRONMENT = {"GIT_TERMINAL_PROMPT": "0", "GIT_SSH_COMMAND": "ssh -o BatchMode=yes"}
LOG_TAIL_LINES = 25


def public_url(repository: str) -> str:
    """The URL without its user name and password, if it has any."""
    parts = urlsplit(repository)
    if parts.scheme and "@" in parts.netloc:
        return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return repository


def run(argv: list[str], deadline: float, **options) -> subprocess.CompletedProcess:
    """A command, within the time left (AnsibleModule.run_command has no time limit)."""
    return subprocess.run(argv, timeout=max(deadline - time.monotonic(), 1), check=False, **options)  # pylint: disable=ansible-bad-function


def git(*args: str, deadline: float, cwd: str | None = None) -> str:
    result = run(["git", *args], deadline, cwd=cwd, capture_output=True, text=True, env={**os.environ, **GIT_ENVIRONMENT})
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip() or f"git {args[0]} failed")
    return result.stdout


def resolve(repository: str, ref: str, deadline: float) -> str:
    """The commit a ref names in the repository now (a full commit names itself)."""
    if COMMIT.match(ref):
        return ref
    refs = {}
    for line in git("ls-remote", "--", repository, ref, f"{ref}^{{}}", deadline=deadline).splitlines():
        commit, _tab, name = line.partition("\t")
        refs[name] = commit
    # A tag's own commit (^{} peels an annotated tag), then the ref as written, a branch, a tag.
    for name in (f"{ref}^{{}}", ref, f"refs/heads/{ref}", f"refs/tags/{ref}^{{}}", f"refs/tags/{ref}"):
        if name in refs:
            return refs[name]
    raise RuntimeError(f"the repository has no branch, tag or ref {ref!r}")


def fetch(repository: str, commit: str, folder: str, deadline: float) -> None:
    """The commit's files in folder: the commit alone where the server lets it be fetched, else every branch and tag."""
    git("init", "-q", folder, deadline=deadline)
    try:  # only the commit, where the server allows it (most do)
        git("fetch", "-q", "--depth", "1", "--", repository, commit, cwd=folder, deadline=deadline)
    except RuntimeError:
        git("fetch", "-q", "--", repository, "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*", cwd=folder, deadline=deadline)
    git("-c", "advice.detachedHead=false", "checkout", "-q", commit, cwd=folder, deadline=deadline)


def image_present(image: str) -> bool:
    return run(["docker", "image", "inspect", "--format", "{{.Id}}", image], time.monotonic() + 60, capture_output=True).returncode == 0


def tail(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return "".join(handle.readlines()[-LOG_TAIL_LINES:]).rstrip()


def build(module: AnsibleModule, spec: dict, result: dict, deadline: float) -> None:
    """repo2docker on the commit's files; its output in result['log']."""
    params = module.params
    os.makedirs(params["log_dir"], mode=0o700, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="plasma-build-") as folder:
        checkout = os.path.join(folder, "repository")
        fetch(spec["repository"], result["commit"], checkout, deadline)
        command = [
            params["repo2docker"],
            "--no-run",
            "--user-id",
            str(params["user_id"]),
            "--user-name",
            params["user_name"],
            "--image-name",
            result["image"],
            "--label",
            f"org.plasma-platform.repository={result['repository']}",
            "--label",
            f"org.plasma-platform.commit={result['commit']}",
            checkout,
        ]
        with open(result["log"], "w", encoding="utf-8") as log:
            log.write(f"# {result['repository']} at {result['commit']} ({spec['ref']}) as {result['image']}\n")
            log.flush()
            try:
                finished = run(command, deadline, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
            except subprocess.TimeoutExpired:
                raise RuntimeError(f"the build took longer than {params['timeout']} s") from None
    if finished.returncode != 0:
        raise RuntimeError(f"repo2docker failed (exit code {finished.returncode}):\n{tail(result['log'])}")


def push(image: str, deadline: float) -> bool:
    """docker push; whether any layer or the manifest was new to the registry."""
    try:
        pushed = run(["docker", "push", image], deadline, capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"pushing {image} did not finish in time") from None
    if pushed.returncode != 0:
        raise RuntimeError(f"pushing {image} failed: {(pushed.stderr or pushed.stdout).strip()[-2000:]}")
    return any(line.endswith(": Pushed") for line in pushed.stdout.splitlines())


def ensure(module: AnsibleModule, spec: dict) -> dict:
    repository = public_url(spec["repository"])
    result = {"repository": repository, "ref": spec["ref"], "commit": "", "image": "", "action": "failed"}
    deadline = time.monotonic() + module.params["timeout"]
    try:
        result["commit"] = resolve(spec["repository"], spec["ref"], deadline)
        result["image"] = f"{spec['image']}:{result['commit'][:12]}"
        if image_present(result["image"]):
            result["action"] = "present"
        elif module.check_mode:
            result["action"] = "would_build"
        else:
            name = re.sub(r"[^A-Za-z0-9._-]+", "-", result["image"])
            result["log"] = os.path.join(module.params["log_dir"], f"{name}.log")
            build(module, spec, result, deadline)
            result["action"] = "built"
        if module.params["push"] and not module.check_mode:
            result["pushed"] = push(result["image"], deadline)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        result["action"], result["error"] = "failed", str(error).replace(spec["repository"], repository)
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "builds": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "image": {"type": "str", "required": True},
                    "repository": {"type": "str", "required": True},
                    "ref": {"type": "str", "default": "HEAD"},
                },
            },
            "repo2docker": {"type": "path", "default": "repo2docker"},
            "user_id": {"type": "int", "default": 1000},
            "user_name": {"type": "str", "default": "jovyan"},
            "log_dir": {"type": "path", "default": "/var/log/plasma-platform/builds"},
            "push": {"type": "bool", "default": False},
            "timeout": {"type": "int", "default": 3600},
        },
        supports_check_mode=True,
    )
    if module.params["user_id"] < 1:
        module.fail_json(msg=f"user_id must be a user's uid, not {module.params['user_id']} (repo2docker refuses root)")
    if module.params["timeout"] < 1:
        module.fail_json(msg=f"timeout must be at least 1, got {module.params['timeout']}")
    tagged = []
    for spec in module.params["builds"]:
        try:
            reference = parse_reference(spec["image"])
        except ValueError as error:
            module.fail_json(msg=f"image {spec['image']!r} is not a valid name: {error}")
        if reference.tag or reference.digest:
            tagged.append(spec["image"])
    if tagged:
        module.fail_json(msg=f"a built image's tag is its commit: give the name alone, not {', '.join(tagged)}")

    results = [ensure(module, spec) for spec in module.params["builds"]]
    changed = any(result["action"] in ("built", "would_build") or result.get("pushed") for result in results)
    failed = [result for result in results if result["action"] == "failed"]
    outcome = {"changed": changed, "builds": results}
    if module._diff:
        built = [f"{result['image']} ({result['repository']} at {result['commit']})\n" for result in results if result["action"] in ("built", "would_build")]
        outcome["diff"] = {"before": "", "after": "".join(built)}
    if failed:
        reasons = "; ".join(f"{result['repository']} ({result['ref']}): {result['error']}" for result in failed)
        module.fail_json(msg=f"{len(failed)} build(s) failed; the images already built stay in service. {reasons}", **outcome)
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
