# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""The restore page, a JupyterHub service: users log in with the hub's OAuth, see the snapshots that hold their
home and their group folders, browse one and restore a file or a folder into FOLDER/restored/<snapshot time>/.

restic runs here, as root, with the repository's password (which never leaves this process: not in a page, not
in the user's process). What restic reads is written by plasma_restore.unpack, started as the user with no
capability. Each restore, cancelled or not, leaves an audit line in the journal (identifier plasma-restore)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import pwd
import secrets
import signal
import subprocess
import sys
import syslog
from dataclasses import dataclass, field
from urllib.parse import urlencode

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import web
from tornado.escape import xhtml_escape
from tornado.httpserver import HTTPServer
from tornado.template import DictLoader

from .repository import Folder, NotFound, Refused, Repository, RepositoryError, folder_of, folders_of, relative_path, snapshot_time

log = logging.getLogger("plasma_restore")

TEMPLATES = {
    "page.html": """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Restore files</title>
{% block head %}{% end %}
<link rel="stylesheet" href="{{ hub }}static/css/style.min.css">
<style>main { max-width: 60rem; margin: 1.5rem auto; } td, th { padding: .2rem .6rem; } form { display: inline; }</style>
</head><body><main class="container">
<nav><a href="{{ hub }}home">Hub home</a> · <a href="{{ prefix }}">Restore files</a></nav>
{% block main %}{% end %}
</main></body></html>""",
    "folders.html": """{% extends "page.html" %}{% block main %}
<h1>Restore files from the backups</h1>
<p>A restored file or folder is copied beside yours, into <code>restored/</code> in the same folder, named after the
snapshot's time: nothing of yours is ever overwritten.</p>
{% for folder, snapshots in listing %}
<h2>{{ folder.label }} <small><code>{{ folder.path }}</code></small></h2>
{% if snapshots %}<ul class="snapshots">
{% for snapshot in snapshots %}<li><a href="{{ prefix }}browse?{{ query(snapshot=snapshot['id'], folder=folder.key) }}">{{ when(snapshot) }}</a>
<small>({{ snapshot['short_id'] }})</small></li>{% end %}
</ul>{% else %}<p>No backup holds this folder yet.</p>{% end %}
{% end %}
{% if jobs %}<h2>Your restores</h2><ul>{% for job in jobs %}<li><a href="{{ prefix }}jobs/{{ job.id }}">{{ job.path or '(whole folder)' }}
from {{ when(job.snapshot) }}</a>: {{ job.state }}</li>{% end %}</ul>{% end %}
{% end %}""",
    "browse.html": """{% extends "page.html" %}{% block main %}
<h1>{{ folder.label }} on {{ when(snapshot) }}</h1>
<p class="breadcrumbs"><a href="{{ prefix }}browse?{{ query(snapshot=snapshot['id'], folder=folder.key) }}">{{ folder.path }}</a>
{% for name, sub in crumbs %}/ <a href="{{ prefix }}browse?{{ query(snapshot=snapshot['id'], folder=folder.key, path=sub) }}">{{ name }}</a>{% end %}</p>
<form method="post" action="{{ prefix }}restore">{% raw xsrf %}
<input type="hidden" name="snapshot" value="{{ snapshot['id'] }}"><input type="hidden" name="folder" value="{{ folder.key }}">
<input type="hidden" name="path" value="{{ path }}"><button class="btn btn-secondary btn-sm" type="submit">Restore this whole folder</button></form>
<table class="table"><thead><tr><th>Name</th><th>Size</th><th>Modified</th><th></th></tr></thead><tbody>
{% for node in children %}{% set sub = (path + '/' if path else '') + node['name'] %}<tr>
<td>{% if node['type'] == 'dir' %}<a href="{{ prefix }}browse?{{ query(snapshot=snapshot['id'], folder=folder.key, path=sub) }}">{{ node['name'] }}/</a>
{% else %}{{ node['name'] }}{% if node['type'] == 'symlink' %} (a link){% end %}{% end %}</td>
<td>{{ size(node['size']) if 'size' in node else '' }}</td><td>{{ node.get('mtime', '')[:16].replace('T', ' ') }}</td>
<td>{% if node['type'] in ('dir', 'file') %}<form method="post" action="{{ prefix }}restore">{% raw xsrf %}
<input type="hidden" name="snapshot" value="{{ snapshot['id'] }}"><input type="hidden" name="folder" value="{{ folder.key }}">
<input type="hidden" name="path" value="{{ sub }}">
<button class="btn btn-primary btn-sm" type="submit" data-path="{{ sub }}">Restore</button></form>{% end %}</td>
</tr>{% end %}
</tbody></table>
{% end %}""",
    "job.html": """{% extends "page.html" %}
{% block head %}{% if job.state == 'running' %}<meta http-equiv="refresh" content="2">{% end %}{% end %}
{% block main %}
<h1>Restoring {{ job.path or '(whole folder)' }}</h1>
<p>From the snapshot of {{ when(job.snapshot) }}, into <code id="target">{{ job.target }}</code>.</p>
<p><progress max="{{ max(job.total, 1) }}" value="{{ min(job.done, job.total) }}"></progress> {{ size(job.done) }} of about {{ size(job.total) }}</p>
<p id="state" class="state-{{ job.state }}">{{ STATES[job.state] }}{{ job.message }}</p>
{% if job.state == 'running' %}<form method="post" action="{{ prefix }}jobs/{{ job.id }}/cancel">{% raw xsrf %}
<button class="btn btn-danger btn-sm" type="submit">Cancel</button></form>{% end %}
{% end %}""",
    "error.html": """{% extends "page.html" %}{% block main %}<h1>{{ status }}</h1><p id="error">{{ message }}</p>{% end %}""",
}


# How the restore page says where a restore is.
STATES = {"running": "Restoring…", "done": "Restored.", "failed": "Failed: ", "cancelled": "Cancelled: "}


def when(snapshot: dict) -> str:
    return f"{snapshot_time(snapshot):%Y-%m-%d %H:%M}"


def size(count: int) -> str:
    """A number of bytes as people read it: 126 B, 3.4 KiB, 2.0 GiB."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return ""


def audit(message: str) -> None:
    """One line in the journal, identifier plasma-restore (journalctl -t plasma-restore)."""
    syslog.openlog("plasma-restore", 0, syslog.LOG_AUTHPRIV)
    syslog.syslog(syslog.LOG_NOTICE, message)
    log.info(message)


# What a process started as the user gets of this one's environment: nothing (not the service's API token).
USER_ENVIRONMENT = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


def as_user(account: pwd.struct_passwd) -> list[str]:
    """The prefix of a command that runs as the account: its ids and groups, no capability, no way to gain one."""
    return [
        "setpriv",
        f"--reuid={account.pw_uid}",
        f"--regid={account.pw_gid}",
        "--init-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]


@dataclass(eq=False)
class Restore:
    """One restore in progress (or finished): who asked, what, from which snapshot, how far it got."""

    user: str
    folder: Folder
    snapshot: dict
    path: str
    kind: str
    total: int
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    target: str = ""
    done: int = 0
    state: str = "running"
    message: str = ""
    task: asyncio.Task | None = None

    @property
    def source(self) -> str:
        return f"{self.folder.path}/{self.path}" if self.path else self.folder.path

    def describe(self) -> str:
        return f"{self.user} restore of {self.source} from snapshot {self.snapshot['short_id']} ({when(self.snapshot)}) into {self.target or '-'}"

    async def run(self, repository: Repository) -> None:
        account = pwd.getpwnam(self.user)
        stamp = f"{snapshot_time(self.snapshot):%Y-%m-%d_%H%M}"
        kind = "file" if self.kind == "file" else "folder"
        strip = str(len([part for part in self.folder.path.split("/") if part]))
        unpack = [*as_user(account), sys.executable, "-I", "-m", "plasma_restore.unpack", self.folder.path, stamp, kind, self.path, strip]
        writer = await asyncio.create_subprocess_exec(
            *unpack, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/", env=USER_ENVIRONMENT
        )
        reader = None
        try:
            name = (await writer.stdout.readline()).decode().strip()
            if not name:
                raise RuntimeError((await writer.stderr.read()).decode(errors="replace").strip() or "the copy could not be started")
            self.target = f"{self.folder.path}/restored/{name}" + (f"/{self.path}" if self.path else "")
            audit(f"started: {self.describe()}")
            reader = await asyncio.create_subprocess_exec(
                *repository.command("dump", self.snapshot["id"], self.source),
                env=repository.environment(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            while chunk := await reader.stdout.read(1 << 20):
                writer.stdin.write(chunk)
                await writer.stdin.drain()
                self.done += len(chunk)
            writer.stdin.close()
            read_error, written_error = (await reader.stderr.read()), (await writer.stderr.read())
            if await reader.wait():
                raise RuntimeError(read_error.decode(errors="replace").strip() or "restic could not read the snapshot")
            if await writer.wait():
                raise RuntimeError(written_error.decode(errors="replace").strip() or "the copy could not be written")
            self.state, self.message = "done", ""
            audit(f"done ({self.done} bytes): {self.describe()}")
        except asyncio.CancelledError:
            self.stop(reader, writer)
            await self.remove_partial(account, name if self.target else "")
            self.state, self.message = "cancelled", "the partial copy was removed"
            audit(f"cancelled: {self.describe()}")
        except (RuntimeError, OSError, ConnectionError) as error:
            self.stop(reader, writer)
            self.state, self.message = "failed", str(error)
            audit(f"failed ({error}): {self.describe()}")

    @staticmethod
    def stop(*processes) -> None:
        for process in processes:
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGKILL)

    async def remove_partial(self, account: pwd.struct_passwd, name: str) -> None:
        """The cancelled copy's fresh folder, removed as the user (a link put in its place is removed, not followed)."""
        if name:
            remove = await asyncio.create_subprocess_exec(
                *as_user(account), "rm", "-rf", "--", f"{self.folder.path}/restored/{name}", cwd="/", env=USER_ENVIRONMENT
            )
            await remove.wait()


class Handler(HubOAuthenticated, web.RequestHandler):
    @property
    def config(self) -> argparse.Namespace:
        return self.settings["restore"]

    @property
    def user(self) -> str:
        return self.current_user["name"]

    def show(self, template: str, **values) -> None:
        hub = url_path_join(os.environ.get("JUPYTERHUB_BASE_URL", "/"), "hub/")
        xsrf = f'<input type="hidden" name="_xsrf" value="{xhtml_escape(self.xsrf_token)}">'
        page = (
            self.settings["loader"]
            .load(template)
            .generate(prefix=self.settings["prefix"], hub=hub, xsrf=xsrf, when=when, size=size, STATES=STATES, query=lambda **args: urlencode(args), **values)
        )
        self.finish(page)

    def write_error(self, status_code: int, **kwargs) -> None:
        error = kwargs.get("exc_info", (None, None))[1]
        message = str(error) if isinstance(error, (Refused, RepositoryError)) else self._reason
        self.show("error.html", status=status_code, message=message)

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, Refused):
            log.warning("%s refused: %s", self.current_user and self.user, value)
        else:
            super().log_exception(typ, value, tb)

    def send_error(self, status_code: int = 500, **kwargs) -> None:
        # Refused and NotFound become their status, with the message; restic's failures a 502.
        error = kwargs.get("exc_info", (None, None))[1]
        if isinstance(error, Refused):
            status_code = error.status
        elif isinstance(error, RepositoryError):
            status_code = 502
        super().send_error(status_code, **kwargs)

    def chosen(self) -> tuple[Folder, str]:
        """The folder and the path inside it that the request names, when they are the user's."""
        folder = folder_of(self.user, self.get_argument("folder", "home"), self.config.folders)
        return folder, relative_path(self.get_argument("path", ""))


class FoldersPage(Handler):
    @web.authenticated
    async def get(self) -> None:
        folders = folders_of(self.user, self.config.folders)
        listing = list(zip(folders, await self.settings["repository"].snapshots(*(folder.path for folder in folders)), strict=True))
        jobs = [job for job in self.settings["jobs"].values() if job.user == self.user]
        self.show("folders.html", listing=listing, jobs=jobs)


class BrowsePage(Handler):
    @web.authenticated
    async def get(self) -> None:
        folder, path = self.chosen()
        repository = self.settings["repository"]
        snapshot = await repository.snapshot(self.get_argument("snapshot", ""), folder.path)
        entry, children = await repository.nodes(snapshot, f"{folder.path}/{path}" if path else folder.path)
        if entry["type"] != "dir":
            raise NotFound(f"{path} is not a folder in this snapshot")
        parts = path.split("/") if path else []
        crumbs = [(name, "/".join(parts[: index + 1])) for index, name in enumerate(parts)]
        self.show("browse.html", folder=folder, snapshot=snapshot, path=path, crumbs=crumbs, children=children)


class RestoreAction(Handler):
    @web.authenticated
    async def post(self) -> None:
        folder, path = self.chosen()
        jobs = self.settings["jobs"]
        if any(job.user == self.user and job.state == "running" for job in jobs.values()):
            raise Refused("one of your restores is still running: wait for it or cancel it first")
        repository = self.settings["repository"]
        snapshot = await repository.snapshot(self.get_argument("snapshot", ""), folder.path)
        source = f"{folder.path}/{path}" if path else folder.path
        entry, children = await repository.nodes(snapshot, source)
        if entry["type"] == "file":
            total = entry.get("size", 0)
        elif entry["type"] == "dir":
            children = (await repository.nodes(snapshot, source, recursive=True))[1]
            total = sum(node.get("size", 0) for node in children)
        else:
            raise Refused(f"{path} is a {entry['type']} in this snapshot: restore the folder that holds it")
        job = Restore(self.user, folder, snapshot, path, entry["type"], total)
        jobs[job.id] = job
        job.task = asyncio.ensure_future(job.run(repository))
        self.redirect(f"{self.settings['prefix']}jobs/{job.id}")


class JobPage(Handler):
    def job(self, ident: str) -> Restore:
        job = self.settings["jobs"].get(ident)
        if job is None or job.user != self.user:
            raise NotFound("no such restore of yours")
        return job

    @web.authenticated
    def get(self, ident: str) -> None:
        self.show("job.html", job=self.job(ident))


class CancelAction(JobPage):
    @web.authenticated
    async def post(self, ident: str) -> None:
        job = self.job(ident)
        if job.state == "running" and job.task is not None:
            job.task.cancel()
            await asyncio.wait([job.task])
        self.redirect(f"{self.settings['prefix']}jobs/{job.id}")


def application(config: argparse.Namespace) -> web.Application:
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/restore/")
    return web.Application(
        [
            (prefix, FoldersPage),
            (url_path_join(prefix, "browse"), BrowsePage),
            (url_path_join(prefix, "restore"), RestoreAction),
            (url_path_join(prefix, r"jobs/([0-9a-f]{16})"), JobPage),
            (url_path_join(prefix, r"jobs/([0-9a-f]{16})/cancel"), CancelAction),
            (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
        ],
        cookie_secret=secrets.token_bytes(32),
        prefix=prefix,
        restore=config,
        repository=Repository(config.env_file),
        jobs={},
        loader=DictLoader(TEMPLATES),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="plasma_restore", description=__doc__)
    parser.add_argument("--port", type=int, required=True, help="the loopback port to listen on")
    parser.add_argument("--env-file", required=True, help="the repository's settings and password (plasma-backup's)")
    parser.add_argument("--folders", type=json.loads, default=[], help="the group folders, a JSON list of {name, path, group}")
    config = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(asctime)s plasma-restore] %(message)s")
    asyncio.run(serve(config))


async def serve(config: argparse.Namespace) -> None:
    HTTPServer(application(config), xheaders=True).listen(config.port, "127.0.0.1")
    await asyncio.Event().wait()
