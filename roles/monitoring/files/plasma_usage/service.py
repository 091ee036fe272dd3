# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""The usage page, a JupyterHub service at /services/usage/: admins log in with the hub's OAuth (the service's access
scope is the admins' alone) and see every running server with its numbers, sortable by any column
(?sort=<column>), and the host's totals. Prometheus on the host's loopback gives the numbers, the hub's API (with
the service's own token, which may read users and servers and nothing else) the servers."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import secrets
from datetime import UTC, datetime
from urllib.parse import urlencode

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.template import Template

from .rows import COLUMNS, NUMBERS, ordered, rows, totals

log = logging.getLogger("plasma_usage")

# The instant queries behind the page: the same series as Prometheus' alerts and the dashboard.
QUERIES = {
    "cpu": "sum by (user, server) (rate(plasma_server_cpu_seconds_total[2m]))",
    "memory": "sum by (user, server) (plasma_server_memory_bytes)",
    "memory_limit": "max by (user, server) (plasma_server_memory_limit_bytes)",
    "home": 'max by (name) (plasma_folder_used_bytes{kind="home"})',
    "home_limit": 'max by (name) (plasma_folder_limit_bytes{kind="home"})',
}
HOST_QUERIES = {
    "cores": 'count(node_cpu_seconds_total{mode="idle"})',
    "host_cpu": 'sum(1 - rate(node_cpu_seconds_total{mode="idle"}[2m]))',
    "host_memory": "sum(node_memory_MemTotal_bytes)",
    "host_memory_available": "sum(node_memory_MemAvailable_bytes)",
}

PAGE = Template("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Usage</title>
<link rel="stylesheet" href="{{ hub }}static/css/style.min.css">
<style>main { max-width: 80rem; margin: 1.5rem auto; } td, th { padding: .2rem .6rem; } td.number { text-align: right; }</style>
</head><body><main class="container">
<nav><a href="{{ hub }}home">Hub home</a> · <a href="{{ hub }}admin">Admin</a></nav>
<h1>Usage</h1>
<p id="totals">Servers running: {{ totals['servers'] }}, of {{ totals['users'] }} users; they use {{ cores(totals['cpu']) }} CPU
cores and {{ size(totals['memory']) }} of memory.
The host: {{ cores(totals['host_cpu']) }} of {{ cores(totals['host_cores']) }} cores busy,
{{ size(used(totals['host_memory'], totals['host_memory_available'])) }} of {{ size(totals['host_memory']) }} of memory in use.</p>
{% if missing %}<p class="alert alert-warning">Prometheus did not answer ({{ missing }}): the numbers are missing.</p>{% end %}
<table class="table table-striped" id="usage"><thead><tr>
{% for key, heading in columns %}<th scope="col" aria-sort="{{ 'descending' if key == sort and key in numbers else 'ascending' if key == sort else 'none' }}">
<a href="?{{ query(sort=key) }}">{{ heading }}</a></th>{% end %}
</tr></thead><tbody>
{% for row in found %}<tr data-user="{{ row.user }}" data-server="{{ row.server }}">
<td>{{ row.user }}</td><td>{{ row.server or '(default)' }}</td><td>{{ row.environment }}</td>
<td class="number" data-value="{{ '' if row.cpu is None else '%.4f' % row.cpu }}">{{ cores(row.cpu) }}</td>
<td class="number" data-value="{{ '' if row.memory is None else int(row.memory) }}">
{{ size(row.memory) }}{% if row.memory_limit %} of {{ size(row.memory_limit) }}{% end %}</td>
<td class="number" data-value="{{ '' if row.home is None else int(row.home) }}">
{{ size(row.home) }}{% if row.home_limit %} of {{ size(row.home_limit) }}{% end %}</td>
<td>{{ ago(row.activity) }}</td><td>{{ ago(row.started) }}</td>
</tr>{% end %}
</tbody></table>
{% if not found %}<p>No server is running.</p>{% end %}
</main></body></html>""")


def size(count: float | None) -> str:
    """A number of bytes as people read it: 126 B, 3.4 KiB, 2.0 GiB."""
    if count is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024 or unit == "TiB":
            return f"{count:.0f} B" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return "-"


def cores(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def used(total: float | None, available: float | None) -> float | None:
    return None if total is None or available is None else total - available


def ago(when: datetime | None) -> str:
    if when is None:
        return "-"
    seconds = (datetime.now(UTC) - when).total_seconds()
    for unit, length in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= length:
            return f"{seconds / length:.0f} {unit} ago"
    return "just now"


async def get_json(url: str, headers: dict | None = None):
    """GET url's JSON; to the hub's API over its internal TLS (a fleet) with the certificates the hub gives its services."""
    tls = {}
    if url.startswith("https:") and os.environ.get("JUPYTERHUB_SSL_CERTFILE"):
        tls = {
            "client_cert": os.environ["JUPYTERHUB_SSL_CERTFILE"],
            "client_key": os.environ["JUPYTERHUB_SSL_KEYFILE"],
            "ca_certs": os.environ["JUPYTERHUB_SSL_CLIENT_CA"],
        }
    response = await AsyncHTTPClient().fetch(HTTPRequest(url, headers=headers or {}, request_timeout=20, **tls))
    return json.loads(response.body)


async def active_users() -> list[dict]:
    """Every user with a server running or starting, page after page (the hub's API gives 200 at most at once)."""
    api = os.environ["JUPYTERHUB_API_URL"].rstrip("/")
    headers = {"Authorization": f"token {os.environ['JUPYTERHUB_API_TOKEN']}", "Accept": "application/jupyterhub-pagination+json"}
    users, offset = [], 0
    while True:
        page = await get_json(f"{api}/users?{urlencode({'state': 'active', 'offset': offset, 'limit': 200})}", headers)
        users += page["items"]
        following = (page.get("_pagination") or {}).get("next")
        if not following:
            return users
        offset = following["offset"]


class UsagePage(HubOAuthenticated, web.RequestHandler):
    @web.authenticated
    async def get(self) -> None:
        config = self.settings["usage"]
        users = await active_users()
        samples, missing = {}, ""
        try:
            answers = await asyncio.gather(
                *(get_json(f"{config.prometheus}/api/v1/query?{urlencode({'query': q})}") for q in {**QUERIES, **HOST_QUERIES}.values())
            )
            samples = dict(zip({**QUERIES, **HOST_QUERIES}, (answer["data"]["result"] for answer in answers), strict=True))
        except (OSError, ValueError, KeyError) as error:  # the page still lists the servers
            log.warning("Prometheus did not answer: %s", error)
            missing = str(error)
            samples = {name: [] for name in {**QUERIES, **HOST_QUERIES}}
        hub = url_path_join(os.environ.get("JUPYTERHUB_BASE_URL", "/"), "hub/")
        self.finish(render(hub, rows(users, config.environments, samples), samples, self.get_argument("sort", "user"), missing))


def render(hub: str, found: list, samples: dict[str, list[dict]], sort: str, missing: str) -> bytes:
    """The page: the servers in found, sorted on the column sort, the totals from samples (the host's queries), and
    what Prometheus said when it did not answer (missing)."""
    return PAGE.generate(
        hub=hub,
        found=ordered(found, sort),
        totals=totals(found, samples),
        columns=COLUMNS,
        numbers=NUMBERS,
        sort=sort,
        missing=missing,
        size=size,
        cores=cores,
        used=used,
        ago=ago,
        query=lambda **args: urlencode(args),
    )


def application(config: argparse.Namespace) -> web.Application:
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/usage/")
    return web.Application(
        [(prefix, UsagePage), (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler)],
        cookie_secret=secrets.token_bytes(32),
        usage=config,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="plasma_usage", description=__doc__)
    parser.add_argument("--port", type=int, required=True, help="the loopback port to listen on")
    parser.add_argument("--prometheus", required=True, help="Prometheus' address, such as http://127.0.0.1:9090")
    parser.add_argument("--environments", type=json.loads, default={}, help="{image: display name}, as JSON")
    config = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(asctime)s plasma-usage] %(message)s")
    asyncio.run(serve(config))


async def serve(config: argparse.Namespace) -> None:
    HTTPServer(application(config), xheaders=True).listen(config.port, "127.0.0.1")
    await asyncio.Event().wait()
