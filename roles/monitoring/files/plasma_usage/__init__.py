# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""The hub's usage page, for its admins: every user's running servers with their environment, CPU, memory, home,
last activity and start time, sortable, and the host's totals. A JupyterHub service (the monitoring role installs it
into the hub's virtualenv; the hub runs it). Its numbers are Prometheus' (plasma-metrics and node exporter), its list
of servers the hub's.

- rows: the table from the hub's users and Prometheus' samples (pure, unit-tested)
- service: the page
"""
