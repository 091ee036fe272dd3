"""scripts/release on a clone of this repository: refusals first (a dirty tree, no release summary, a version that is
not newer), then a release whose commit is recorded in the repository and whose tarball is built from it."""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
IDENTITY = {"GIT_AUTHOR_NAME": "Release Test", "GIT_AUTHOR_EMAIL": "release@example.org"}
IDENTITY |= {"GIT_COMMITTER_NAME": IDENTITY["GIT_AUTHOR_NAME"], "GIT_COMMITTER_EMAIL": IDENTITY["GIT_AUTHOR_EMAIL"]}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env={**os.environ, **IDENTITY}).stdout.strip()


def release(repo: Path, version: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(repo / "scripts" / "release"), version], capture_output=True, text=True, env={**os.environ, **IDENTITY})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A clone of this repository's HEAD, with the machine's virtualenvs (the docs one has antsibull-changelog)."""
    clone = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    (clone / ".cache").mkdir()
    (clone / ".venv").symlink_to(ROOT / ".venv")
    (clone / ".git" / "info" / "exclude").write_text("/.venv\n")  # .gitignore's ".venv/" is for a folder, not a link
    subprocess.run([str(ROOT / "scripts" / "docs-site"), "--venv"], check=True)
    (clone / ".cache" / "docs-venv").symlink_to(ROOT / ".cache" / "docs-venv")
    return clone


def add_summary(repo: Path, version: str) -> None:
    fragment = repo / "changelogs" / "fragments" / f"{version}.yml"
    fragment.write_text(f"---\nrelease_summary: Release {version}. Nothing to do before upgrading.\n")
    git(repo, "add", str(fragment))
    git(repo, "commit", "-q", "-m", f"Summary of {version}")


def next_version(repo: Path) -> str:
    """One minor version above the last release (or galaxy.yml's version before the first)."""
    releases = yaml.safe_load((repo / "changelogs" / "changelog.yaml").read_text())["releases"] or {}
    current = max(releases, key=lambda v: tuple(map(int, v.split("."))), default=None)
    if current is None:
        return yaml.safe_load((repo / "galaxy.yml").read_text())["version"]
    major, minor, _ = map(int, current.split("."))
    return f"{major}.{minor + 1}.0"


def test_a_release_needs_a_clean_tree_a_summary_and_a_newer_semantic_version(repo: Path):
    version = next_version(repo)
    summary = repo / "changelogs" / "fragments" / f"{version}.yml"
    if summary.exists():  # written ahead of the release: taken away for this refusal
        git(repo, "rm", "-q", str(summary))
        git(repo, "commit", "-q", "-m", f"Without the summary of {version}")
    head = git(repo, "rev-parse", "HEAD")

    refused = release(repo, version)
    assert refused.returncode != 0 and f"changelogs/fragments/{version}.yml with a release_summary is missing" in refused.stderr

    add_summary(repo, version)
    (repo / "README.md").write_text("edited\n")
    refused = release(repo, version)
    assert refused.returncode != 0 and "the tree has changes not committed" in refused.stderr
    git(repo, "checkout", "README.md")

    refused = release(repo, "1.0")
    assert refused.returncode != 0 and "1.0 is not a semantic version" in refused.stderr
    assert git(repo, "rev-list", f"{head}..HEAD", "--count") == "1"  # the summary's commit only


def test_a_release_records_its_commit_and_builds_its_tarball_from_it(repo: Path):
    version = next_version(repo)
    add_summary(repo, version)

    done = release(repo, version)
    assert done.returncode == 0, done.stdout + done.stderr

    commits = yaml.safe_load((repo / "changelogs" / "release-commits.yml").read_text())
    commit = commits[version]
    assert git(repo, "log", "-1", "--format=%s", commit) == f"Release {version}"
    assert yaml.safe_load(git(repo, "show", f"{commit}:galaxy.yml"))["version"] == version
    assert f"v{version}" in git(repo, "show", f"{commit}:CHANGELOG.rst")
    assert not (repo / "changelogs" / "fragments" / f"{version}.yml").exists()  # in changelog.yaml now
    assert git(repo, "status", "--porcelain") == ""
    with tarfile.open(repo / ".cache" / "releases" / f"plasma-platform-{version}.tar.gz") as tarball:
        manifest = tarball.extractfile("MANIFEST.json").read().decode()
    assert f'"version": "{version}"' in manifest

    again = release(repo, version)
    assert again.returncode != 0 and f"{version} is not newer than the last release, {version}" in again.stderr
