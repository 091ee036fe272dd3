"""The usage page as its template renders it (plasma_usage.service): a row per server with its numbers in readable
units and machine-readable values, a link per column to sort on it, the order marked, the totals sentence, and a
warning instead of numbers when Prometheus does not answer."""

import re

from plasma_usage.rows import COLUMNS, rows
from plasma_usage.service import cores, size
from plasma_usage.service import render as page
from test_usage_rows import SAMPLES, USERS


def render(found, sort="user", missing="", host=None) -> str:
    return page("/hub/", found, host or {}, sort, missing).decode()


def test_each_server_is_a_row_in_the_chosen_order_with_readable_numbers():
    page = render(rows(USERS, {"r/a:1": "Environment A"}, SAMPLES), sort="memory")
    assert re.findall(r'<tr data-user="(\w+)" data-server="(\w*)">', page) == [("bob", ""), ("alice", ""), ("bob", "second")]
    assert "100.0 MiB of 1.0 GiB" in page and 'data-value="104857600"' in page
    assert "60.0 MiB of 64.0 MiB" in page  # bob's home, of his quota
    assert "<td>(default)</td>" in page and "<td>second</td>" in page
    for key, _heading in COLUMNS:
        assert f'href="?sort={key}"' in page
    assert re.search(r'aria-sort="descending">\s*<a href="\?sort=memory">', page)
    assert "Servers running: 3, of 2 users; they use 1.75 CPU cores and 450.0 MiB of memory." in " ".join(page.split())


def test_without_prometheus_the_servers_are_still_listed_and_the_page_says_why():
    empty = {name: [] for name in SAMPLES}
    page = render(rows(USERS, {}, empty), missing="Connection refused")
    assert "Prometheus did not answer (Connection refused)" in page
    assert page.count("<tr data-user=") == 3


def test_units():
    assert (size(None), size(512), size(1536), size(3 * 2**30)) == ("-", "512 B", "1.5 KiB", "3.0 GiB")
    assert (cores(None), cores(0.256)) == ("-", "0.26")
