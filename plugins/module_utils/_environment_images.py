# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""Pure logic of the environment_images module: references, decisions, results.

Nothing here talks to Docker, so all of it is unit-tested on the controller.
Private to this collection (the leading underscore): no compatibility promise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# The grammar of github.com/distribution/reference, reduced to what Docker accepts.
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"^(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$"
)
_PLATFORM = re.compile(r"^[a-z0-9_]+/[a-z0-9_]+(?:/[a-z0-9_]+)?$")
_NAME_MAX = 255

POLICIES = ("missing", "latest")


@dataclass(frozen=True)
class Reference:
    """An image reference as Docker reads it; `repository` keeps the domain if one was given."""

    repository: str
    tag: str | None
    digest: str | None

    @property
    def pull_tag(self) -> str:
        """What to pass as `tag` to the Engine's pull: a digest wins over a tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        if self.digest:
            return f"{self.repository}@{self.digest}" if not self.tag else f"{self.repository}:{self.tag}@{self.digest}"
        return f"{self.repository}:{self.tag or 'latest'}"


@dataclass(frozen=True)
class ImageSpec:
    """One image the operator declared."""

    name: str
    reference: Reference
    platform: str | None = None
    policy: str | None = None  # this image's own, over the module's


def parse_reference(text: str) -> Reference:
    """Parse an image reference, or raise ValueError saying what is wrong with it."""
    if not isinstance(text, str) or not text:
        raise ValueError("an image reference must be a non-empty string")
    if text != text.strip() or any(c.isspace() for c in text):
        raise ValueError("it contains white space")
    match = _REFERENCE.match(text)
    if not match:
        if _REFERENCE.match(text.lower()):
            raise ValueError("repository names must be lower case")
        raise ValueError("it does not follow Docker's reference format [registry/]name[:tag][@digest]")
    domain, path = match.group("domain"), match.group("path")
    if domain and not ("." in domain or ":" in domain or domain == "localhost" or domain != domain.lower()):
        # Docker reads "team/image" as a Docker Hub path, not as a registry called "team".
        path, domain = f"{domain}/{path}", None
    if domain and domain != domain.lower() and "." not in domain and ":" not in domain:
        raise ValueError("repository names must be lower case")
    repository = f"{domain}/{path}" if domain else path
    if len(repository) > _NAME_MAX:
        raise ValueError(f"the repository name is longer than {_NAME_MAX} characters")
    return Reference(repository=repository, tag=match.group("tag"), digest=match.group("digest"))


def parse_images(items: list) -> tuple[list[ImageSpec], list[str]]:
    """Read the `images` option: every entry is checked, and every problem reported together."""
    specs: list[ImageSpec] = []
    errors: list[str] = []
    seen: set[tuple[str, str | None]] = set()
    for item in items:
        if isinstance(item, dict):
            name, platform, policy = item.get("name"), item.get("platform"), item.get("policy")
            unknown = sorted(set(item) - {"name", "platform", "policy"})
            if unknown:
                errors.append(f"{item!r}: unknown key(s) {', '.join(unknown)} (allowed: name, platform, policy)")
                continue
            if policy is not None and policy not in POLICIES:
                errors.append(f"image {name!r}: policy {policy!r} is not one of {', '.join(POLICIES)}")
                continue
        else:
            name, platform, policy = item, None, None
        try:
            reference = parse_reference(name)
        except ValueError as error:
            errors.append(f"image {name!r} is not a valid reference: {error}")
            continue
        if platform is not None and not (isinstance(platform, str) and _PLATFORM.match(platform)):
            errors.append(f"image {name!r}: platform {platform!r} is not of the form os/arch[/variant]")
            continue
        key = (str(reference), platform)
        if key not in seen:
            seen.add(key)
            specs.append(ImageSpec(name=name, reference=reference, platform=platform, policy=policy))
    return specs, errors


def local_digest(repo_digests: list[str], reference: Reference) -> str | None:
    """The digest the local image was pulled with, for this reference's repository."""
    candidates = {reference.repository}
    if "/" not in reference.repository:
        candidates |= {f"library/{reference.repository}", f"docker.io/library/{reference.repository}"}
    elif "." not in reference.repository.split("/")[0] and ":" not in reference.repository.split("/")[0]:
        candidates.add(f"docker.io/{reference.repository}")
    for entry in repo_digests or []:
        repository, at, digest = entry.partition("@")
        if at and repository in candidates:
            return digest
    return None


def decide(policy: str, local_present: bool, local_digest_value: str | None, remote_digest: str | None) -> str:
    """What to do with one image: 'present', 'pull' (absent) or 'update' (a newer digest exists)."""
    if not local_present:
        return "pull"
    if policy == "latest" and remote_digest is not None and remote_digest != local_digest_value:
        return "update"
    return "present"


# What each decision is called in the results, for real and in check mode.
ACTIONS = {
    "pull": ("pulled", "would_pull"),
    "update": ("updated", "would_update"),
    "present": ("present", "present"),
    "remove": ("removed", "would_remove"),
    "keep": ("kept_in_use", "kept_in_use"),
}
CHANGING = {"pulled", "updated", "removed", "would_pull", "would_update", "would_remove"}


def action_name(decision: str, check_mode: bool) -> str:
    return ACTIONS[decision][1 if check_mode else 0]


def is_permanent(message: str) -> bool:
    """Errors that another try cannot fix: the image or the credentials are wrong."""
    lowered = message.lower()
    return any(marker in lowered for marker in ("manifest unknown", "not found", "unauthorized", "denied", "invalid reference", "no matching manifest"))


def backoff_delays(retries: int, first_delay: float) -> list[float]:
    """Pauses before each retry: first_delay, doubled each time."""
    return [first_delay * (2**attempt) for attempt in range(retries)]


@dataclass
class Outcome:
    """The result of one image, as the module returns it."""

    name: str
    action: str
    platform: str | None = None
    id: str | None = None
    digest: str | None = None
    seconds: float = 0.0
    attempts: int = 0
    error: str | None = None
    server: str | None = None
    check_key: str | None = None  # what the state file records for a check that passed
    before: dict = field(default_factory=dict)

    def as_result(self) -> dict:
        result = {
            "name": self.name,
            "action": self.action,
            "id": self.id,
            "digest": self.digest,
            "seconds": round(self.seconds, 2),
            "attempts": self.attempts,
        }
        if self.platform:
            result["platform"] = self.platform
        if self.server:
            result["server"] = self.server
        if self.error:
            result["error"] = self.error
        return result


# Run in a new image (as nobody, without network): what the spawner and the entrypoint need of it. Its last line is
# "plasma-check: ok <JupyterHub version>" or "plasma-check: <what is missing>".
SERVER_CHECK = r"""
server=$(command -v jupyterhub-singleuser) || { echo "plasma-check: no jupyterhub-singleuser on the image's PATH ($PATH)"; exit 0; }
for tool in setpriv tar awk; do
  (PATH=/usr/sbin:/usr/bin:/sbin:/bin; command -v "$tool" >/dev/null) || { echo "plasma-check: no $tool in the image's /usr/bin or /bin"; exit 0; }
done
for python in "$(sed -n '1s/^#! *//p' "$server")" python3 python; do
  version=$($python -c 'import jupyterhub; print(jupyterhub.__version__)' 2>/dev/null) && { echo "plasma-check: ok $version"; exit 0; }
done
echo "plasma-check: $server runs, but no Python of the image imports jupyterhub"
"""
# JupyterHub 2.0 brought the scopes that a hub's tokens carry; older single-user servers cannot use them.
MIN_SERVER_VERSION = (2, 0)


def server_problem(output: str) -> tuple[str | None, str | None]:
    """(JupyterHub version, None) from SERVER_CHECK's output when the image can serve, else (version, what is wrong)."""
    lines = [line for line in output.splitlines() if line.startswith("plasma-check: ")]
    if not lines:
        return None, f"the image's /bin/sh did not run the check: {output.strip()[-300:] or 'no output'}"
    verdict = lines[-1][len("plasma-check: ") :]
    if not verdict.startswith("ok "):
        return None, f"{verdict}: it cannot run a notebook server for JupyterHub"
    version = verdict[3:].strip()
    numbers = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    if numbers < MIN_SERVER_VERSION:
        minimum = ".".join(map(str, MIN_SERVER_VERSION))
        return version, f"its JupyterHub is {version}, older than {minimum}: the hub's tokens need {minimum} or later"
    return version, None


# A size Docker's storage-opt takes: bytes, or with a K/M/G/T suffix in either case; zero is no limit.
_SIZE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([KMGTkmgt]?)$")
_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def disk_limit_bytes(limit) -> int | None:
    """A disk limit ('10G', '512m', '1073741824', 0) as bytes, None for no limit; ValueError when malformed."""
    match = _SIZE.match(str(limit if limit is not None else 0).strip())
    if not match:
        raise ValueError(f"disk limit {limit!r} is not a number of bytes with an optional K, M, G or T suffix")
    number, unit = match.groups()
    return int(float(number) * _SIZE_UNITS[unit.upper()]) or None


def check_key(image_id: str, disk_limit: int | None) -> str:
    """What the state file records for an image that passed its check: its id, and the disk limit it was started with
    (a new limit is checked again)."""
    return image_id if not disk_limit else f"{image_id} size={disk_limit}"


# How an engine that cannot limit a container's root filesystem answers, and what would let it.
DISK_LIMIT_HELP = (
    "the Docker Engine cannot limit a container's disk here ({error}); it can with the btrfs or zfs storage driver, or "
    "overlay2 on XFS mounted with pquota, and on btrfs the image's own size counts within the limit: set a larger "
    "limit, or none (0)"
)


def summarize(outcomes: list[Outcome]) -> tuple[bool, str | None]:
    """(changed, failure message naming each failed image, or None)."""
    changed = any(o.action in CHANGING for o in outcomes)
    failed = [o for o in outcomes if o.action == "failed"]
    if not failed:
        return changed, None
    details = "; ".join(f"{o.name}: {o.error}" for o in failed)
    return changed, f"{len(failed)} of {len(outcomes)} image(s) failed: {details}"


def diff(outcomes: list[Outcome]) -> dict:
    """before/after per image: its digest, or 'absent'."""
    before, after = {}, {}
    for o in outcomes:
        before[o.name] = o.before.get("digest") or ("present" if o.before.get("id") else "absent")
        if o.action in ("removed", "would_remove"):
            after[o.name] = "absent"
        elif o.action in ("pulled", "updated"):
            after[o.name] = o.digest or "present"
        elif o.action in ("would_pull", "would_update"):
            after[o.name] = o.digest or "pulled"
        else:
            after[o.name] = before[o.name]
    return {"before": before, "after": after}
