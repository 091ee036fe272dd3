"""The monitoring role (monitoring_enabled): Prometheus reads every target, the hub's metrics with a token that may
read nothing else; a user's CPU-bound cell shows in their CPU series; the alert rules fire on realistic series
(promtool test rules); a backup that stopped reaches the operator's webhook (a receiver this test runs on the host,
where the scenario's inventory points Alertmanager); and nothing of it is reachable from a user's server."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import pytest
import requests
import yaml
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.alerts import WEBHOOK_LOG, WEBHOOK_UNIT, posted_alerts, webhook_program
from tests.support.hub import UserServer
from tests.support.scenario import OUTPUT

testinfra_hosts = ["ansible://all"]

STAMP = "/var/lib/plasma-platform/backup-last-success"  # plasma-backup's: touched by each backup that succeeded
DASHBOARD = Path(__file__).resolve().parents[3] / "roles" / "monitoring" / "files" / "dashboards" / "plasma-platform.json"


def query(host, promql: str) -> list[dict]:
    """An instant query to Prometheus, from the host itself (it listens on loopback only)."""
    answer = host.check_output(f"curl -sf http://127.0.0.1:9090/api/v1/query --data-urlencode {shlex.quote('query=' + promql)}")
    return json.loads(answer)["data"]["result"]


def wait_for(what: str, check, timeout: float = 150, every: float = 3):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"waited {timeout:.0f} s for {what}"
        time.sleep(every)


@pytest.fixture(scope="module")
def alice(hub):
    server = UserServer(hub, "alice", hub.token("alice", "alice-pass"))
    server.stop()
    assert server.start("Environment A").status_code in (201, 202)
    yield server
    server.stop()


def test_prometheus_reads_every_target(host):
    def all_up():
        targets = json.loads(host.check_output("curl -sf http://127.0.0.1:9090/api/v1/targets"))["data"]["activeTargets"]
        jobs = {target["labels"]["job"]: target["health"] for target in targets}
        return jobs if set(jobs) == {"prometheus", "alertmanager", "node", "docker", "jupyterhub"} and set(jobs.values()) == {"up"} else None

    wait_for("every target up", all_up)
    # The platform's own numbers arrive through node exporter, none of their parts unreadable.
    assert query(host, "plasma_metrics_last_run_timestamp_seconds")
    assert query(host, "sum(plasma_metrics_errors)")[0]["value"][1] == "0"


def test_the_hub_s_metrics_need_the_metrics_token_and_no_other_token_reads_them(host, hub):
    metrics_token = host.file("/etc/prometheus/plasma-hub-metrics-token")
    assert (metrics_token.user, metrics_token.group, metrics_token.mode) == ("root", "prometheus", 0o640)
    token = host.check_output("cat /etc/prometheus/plasma-hub-metrics-token")
    answer = requests.get(f"{hub.base_url}/hub/metrics", headers={"Authorization": f"token {token}"}, timeout=30)
    assert answer.status_code == 200 and "jupyterhub_" in answer.text
    # A user's token, or none, reads nothing; the metrics token reads nothing else.
    for other in (hub.token("bob", "bob-pass"), ""):
        refused = requests.get(f"{hub.base_url}/hub/metrics", headers={"Authorization": f"token {other}"} if other else {}, timeout=30)
        assert refused.status_code in (401, 403), refused.status_code
    assert requests.get(f"{hub.base_url}/hub/api/users", headers={"Authorization": f"token {token}"}, timeout=30).status_code == 403


def test_a_cpu_bound_cell_shows_in_the_user_s_cpu_series(host, alice):
    series = 'plasma_server_cpu_seconds_total{user="alice",environment="Environment A"}'

    def cpu_seconds():
        host.run_expect([0], "systemctl start plasma-metrics.service")
        found = query(host, series)
        return float(found[0]["value"][1]) if found else None

    before = wait_for("alice's CPU series", cpu_seconds)
    alice.run_python("import time\nend = time.process_time() + 4\nwhile time.process_time() < end: pass", timeout=120)
    wait_for("alice's CPU series to rise by the cell's 4 s", lambda: (cpu_seconds() or 0) >= before + 4)
    memory = query(host, 'plasma_server_memory_bytes{user="alice"}')
    assert memory and float(memory[0]["value"][1]) > 10 * 2**20  # a JupyterLab server holds tens of MiB
    assert query(host, 'plasma_environment_image_present{environment="Environment A"} == 1')
    # Servers are measured here, not through their network interfaces: no series for their veth pairs.
    interfaces = host.check_output("curl -sf 127.0.0.1:9100/metrics | grep -o 'device=\"[^\"]*' | sort -u")
    assert "eth0" in interfaces and "veth" not in interfaces, interfaces


def test_every_panel_of_the_dashboard_shows_series(host, alice):
    """The Grafana dashboard the role ships for operators who run Grafana: each panel's query, as Grafana sends it
    (its $__rate_interval as 5m), returns series from this host's Prometheus, alice's server running."""
    panels = json.loads(DASHBOARD.read_text())["panels"]
    queries = {panel["title"]: target["expr"].replace("$__rate_interval", "5m") for panel in panels for target in panel["targets"]}
    deadline = time.monotonic() + 90  # the rates need two scrapes of alice's server
    while empty := [title for title, promql in queries.items() if not query(host, promql)]:
        assert time.monotonic() < deadline, f"panels without series: {empty}"
        time.sleep(5)


@pytest.mark.release_independent
def test_an_admin_sees_each_running_server_s_numbers_on_the_usage_page(host, hub, alice, browser):
    """alice, an admin, opens the usage page from the hub in Chromium: her server is listed with its environment,
    and its memory as `docker stats` reports it (within a quarter: a server's memory moves between the two reads)."""
    wait = WebDriverWait(browser, 120)

    def measured():  # plasma-metrics' next run, read by Prometheus (every minute and 15 s at most, on their own)
        host.run_expect([0], "systemctl start plasma-metrics.service")
        return query(host, 'plasma_server_memory_bytes{user="alice"}')

    wait_for("alice's server in Prometheus", measured)
    hub.browser_login(browser, "alice", "alice-pass")
    browser.get(f"{hub.base_url}/services/usage/?sort=memory")
    row = wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "tr[data-user='alice'][data-server='']")))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(OUTPUT / "usage-page.png"))
    cells = row.find_elements(By.TAG_NAME, "td")
    assert cells[2].text == "Environment A"
    shown = int(cells[4].get_attribute("data-value"))
    used = host.check_output("docker stats --no-stream --format '{{.MemUsage}}' jupyter-alice").split(" / ")[0]
    number, unit = float(used.rstrip("KMGiB")), used.lstrip("0123456789.")
    stats = number * {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "B": 1}[unit]
    assert 0.75 * stats <= shown <= 1.25 * stats, (shown, used)
    assert "of 1.0 GiB" in cells[4].text  # Environment A's memory limit
    assert "CPU cores" in browser.find_element(By.ID, "totals").text


def test_the_usage_page_is_the_admins_alone(hub):
    session, _ = hub.login("bob", "bob-pass")
    refused = session.get(f"{hub.base_url}/services/usage/", timeout=30)
    assert refused.status_code == 403, refused.status_code
    assert "data-user" not in refused.text


def test_nothing_of_the_monitoring_is_reachable_from_a_user_s_server(host, alice):
    addresses = [
        host.check_output("ip -4 -o addr show docker0").split()[3].split("/")[0],
        host.check_output("ip -4 -o route get 1.1.1.1").split(" src ")[1].split()[0],
    ]
    code = (
        "import socket\n"
        f"for address in {addresses!r}:\n"
        "    for port in (9090, 9093, 9100, 9323):\n"
        "        try:\n"
        "            socket.create_connection((address, port), timeout=3).close()\n"
        "            print(address, port, 'open')\n"
        "        except OSError as error:\n"
        "            print(address, port, type(error).__name__)\n"
    )
    reached = alice.run_python(code, timeout=120).splitlines()
    assert len(reached) == 8 and not [line for line in reached if line.endswith(" open")], reached
    # The host itself reaches them.
    for port in (9090, 9093, 9100, 9323):
        host.run_expect([0], f"timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}'")


# What each alert says when it fires on the series of test_every_alert_fires_on_realistic_series.
SUMMARIES = {
    "PlasmaBackupTooOld": "No backup has succeeded for 26 hours on h.",
    "PlasmaBackupFailed": "The last backup run failed on h.",
    "PlasmaCertificateExpiresSoon": "The hub's HTTPS certificate expires in less than 14 days.",
    "PlasmaHubDown": "The hub does not answer Prometheus.",
    "PlasmaTargetDown": "node on node1:9100 does not answer: a host or a service is down.",
    "PlasmaMetricsStale": "plasma-metrics on node1:9100 has not run for five minutes: the platform's own numbers are old.",
    "PlasmaMetricsUnreadable": "plasma-metrics on node2:9100 cannot read its part usage.",
    "PlasmaSpawnFailures": "Servers failed to start in the last 10 minutes.",
    "PlasmaSlowSpawns": "One start in ten takes longer than 60 s.",
    "PlasmaDiskFilling": "/home on h is more than 90 % full.",
    "PlasmaQuotaNearlyFull": "home bob uses more than 90 % of its quota.",
    "PlasmaImageMissing": "A (r/a:1) is not on node1:9100: its users cannot start there.",
}


def test_every_alert_fires_on_realistic_series(host):
    """promtool test rules against the rules the role installed, with its thresholds (the scenario keeps the
    defaults: 26 h, 14 days, 90 %, 60 s). Each alert as the operator reads it: its summary, with the series' labels
    in it, and its rule's runbook line."""
    tests = {
        "rule_files": ["/etc/prometheus/plasma-alerts.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {  # a daily backup that stopped two days ago, then a run that failed
                "interval": "1h",
                "input_series": [
                    {"series": 'plasma_backup_last_success_timestamp_seconds{instance="h"}', "values": "0x50"},
                    {"series": 'plasma_backup_last_run_failed{instance="h"}', "values": "0x20 1x5"},
                ],
                "alert_rule_test": [
                    {"eval_time": "25h", "alertname": "PlasmaBackupTooOld", "exp_alerts": []},
                    {"eval_time": "27h", "alertname": "PlasmaBackupTooOld", "exp_alerts": [{"exp_labels": {"severity": "critical", "instance": "h"}}]},
                    {"eval_time": "19h", "alertname": "PlasmaBackupFailed", "exp_alerts": []},
                    {"eval_time": "22h", "alertname": "PlasmaBackupFailed", "exp_alerts": [{"exp_labels": {"severity": "warning", "instance": "h"}}]},
                ],
            },
            {  # a certificate that expires on day 20 of the test; no renewal
                "interval": "1d",
                "input_series": [{"series": 'plasma_certificate_expiry_timestamp_seconds{instance="h",path="/c.pem"}', "values": f"{20 * 86400}x20"}],
                "alert_rule_test": [
                    {"eval_time": "5d", "alertname": "PlasmaCertificateExpiresSoon", "exp_alerts": []},
                    {
                        "eval_time": "7d",
                        "alertname": "PlasmaCertificateExpiresSoon",
                        "exp_alerts": [{"exp_labels": {"severity": "critical", "instance": "h", "path": "/c.pem"}}],
                    },
                ],
            },
            {  # the hub stops answering at minute 5; a node's exporter at minute 10
                "interval": "1m",
                "input_series": [
                    {"series": 'up{job="jupyterhub",instance="hub:8081"}', "values": "1x4 0x10"},
                    {"series": 'up{job="node",instance="node1:9100"}', "values": "1x9 0x10"},
                    # starts: one failure at minute 8
                    {"series": 'jupyterhub_server_spawn_duration_seconds_count{status="failure"}', "values": "0x7 1x10"},
                    # images: node1 loses Environment A at minute 3
                    {"series": 'plasma_environment_image_present{instance="node1:9100",image="r/a:1",environment="A"}', "values": "1x2 0x15"},
                    # plasma-metrics last ran at minute 4, then its timer stopped
                    {"series": 'plasma_metrics_last_run_timestamp_seconds{instance="node1:9100"}', "values": "0 60 120 180 240x15"},
                    {"series": 'plasma_metrics_errors{instance="node1:9100",part="usage"}', "values": "0x15"},
                    # node2's cannot read its part "usage" from minute 6 on
                    {"series": 'plasma_metrics_errors{instance="node2:9100",part="usage"}', "values": "0x5 1x10"},
                ],
                "alert_rule_test": [
                    {"eval_time": "5m", "alertname": "PlasmaHubDown", "exp_alerts": []},
                    {
                        "eval_time": "8m",
                        "alertname": "PlasmaHubDown",
                        "exp_alerts": [{"exp_labels": {"severity": "critical", "job": "jupyterhub", "instance": "hub:8081"}}],
                    },
                    {
                        "eval_time": "13m",
                        "alertname": "PlasmaTargetDown",
                        "exp_alerts": [{"exp_labels": {"severity": "critical", "job": "node", "instance": "node1:9100"}}],
                    },
                    {"eval_time": "7m", "alertname": "PlasmaSpawnFailures", "exp_alerts": []},
                    {"eval_time": "9m", "alertname": "PlasmaSpawnFailures", "exp_alerts": [{"exp_labels": {"severity": "warning", "status": "failure"}}]},
                    {"eval_time": "7m", "alertname": "PlasmaImageMissing", "exp_alerts": []},
                    {
                        "eval_time": "9m",
                        "alertname": "PlasmaImageMissing",
                        "exp_alerts": [{"exp_labels": {"severity": "warning", "instance": "node1:9100", "image": "r/a:1", "environment": "A"}}],
                    },
                    {"eval_time": "8m", "alertname": "PlasmaMetricsStale", "exp_alerts": []},
                    {"eval_time": "16m", "alertname": "PlasmaMetricsStale", "exp_alerts": [{"exp_labels": {"severity": "warning", "instance": "node1:9100"}}]},
                    {"eval_time": "9m", "alertname": "PlasmaMetricsUnreadable", "exp_alerts": []},
                    {
                        "eval_time": "12m",
                        "alertname": "PlasmaMetricsUnreadable",
                        "exp_alerts": [{"exp_labels": {"severity": "warning", "instance": "node2:9100", "part": "usage"}}],
                    },
                ],
            },
            {  # a disk filling; a home at 95 % of its quota; starts taking 90 s for half an hour
                "interval": "1m",
                "input_series": [
                    {"series": 'node_filesystem_avail_bytes{instance="h",mountpoint="/home",fstype="btrfs"}', "values": "50x5 5x10"},
                    {"series": 'node_filesystem_size_bytes{instance="h",mountpoint="/home",fstype="btrfs"}', "values": "100x15"},
                    {"series": 'plasma_folder_used_bytes{instance="h",kind="home",name="bob"}', "values": "50x5 95x10"},
                    {"series": 'plasma_folder_limit_bytes{instance="h",kind="home",name="bob"}', "values": "100x15"},
                ],
                "alert_rule_test": [
                    {"eval_time": "8m", "alertname": "PlasmaDiskFilling", "exp_alerts": []},
                    {
                        "eval_time": "12m",
                        "alertname": "PlasmaDiskFilling",
                        "exp_alerts": [{"exp_labels": {"severity": "warning", "instance": "h", "mountpoint": "/home", "fstype": "btrfs"}}],
                    },
                    {"eval_time": "4m", "alertname": "PlasmaQuotaNearlyFull", "exp_alerts": []},
                    {
                        "eval_time": "7m",
                        "alertname": "PlasmaQuotaNearlyFull",
                        "exp_alerts": [{"exp_labels": {"severity": "info", "instance": "h", "kind": "home", "name": "bob"}}],
                    },
                ],
            },
            {  # every start in the last half hour took 90 s (the histogram's buckets as JupyterHub's)
                "interval": "1m",
                "input_series": [
                    {
                        "series": f'jupyterhub_server_spawn_duration_seconds_bucket{{status="success",le="{le}"}}',
                        "values": f"0+{1 if le in ('120', '+Inf') else 0}x60",
                    }
                    for le in ("10", "30", "60", "120", "+Inf")
                ],
                "alert_rule_test": [{"eval_time": "50m", "alertname": "PlasmaSlowSpawns", "exp_alerts": [{"exp_labels": {"severity": "warning"}}]}],
            },
        ],
    }
    rules = yaml.safe_load(host.file("/etc/prometheus/plasma-alerts.yml").content_string)["groups"][0]["rules"]
    runbooks = {rule["alert"]: rule["annotations"]["runbook"] for rule in rules}
    assert set(SUMMARIES) == set(runbooks), "a rule without its test, or a test without its rule"
    for test in tests["tests"]:
        for case in test["alert_rule_test"]:
            for alert in case["exp_alerts"]:
                alert["exp_annotations"] = {"summary": SUMMARIES[case["alertname"]], "runbook": runbooks[case["alertname"]]}
    host.run_expect([0], f"printf '%s' {shlex.quote(json.dumps(tests))} > /tmp/plasma-alerts-test.yml")
    result = host.run("cd /tmp && promtool test rules plasma-alerts-test.yml")
    assert result.rc == 0, result.stdout + result.stderr


def test_a_backup_that_stopped_reaches_the_operator_s_webhook(host):
    """The last success backdated by three days (as if the timer had stopped): Prometheus reads it, the rule fires,
    Alertmanager posts it to the webhook the inventory names."""
    stamp = host.check_output("plasma-backup last-success")  # the backup tests' last one, if they ran
    host.run_expect([0], f"rm -f {WEBHOOK_LOG} && systemd-run --unit {WEBHOOK_UNIT} python3 -c {shlex.quote(webhook_program(9999))}")
    try:
        host.run_expect([0], f"mkdir -p $(dirname {STAMP}) && touch -d '3 days ago' {STAMP} && systemctl start plasma-metrics.service")

        def posted():
            log = host.file(WEBHOOK_LOG)
            return posted_alerts(log.content_string, "PlasmaBackupTooOld") if log.exists else None

        firing = wait_for("the backup alert at the webhook", posted, timeout=240)
        assert "No backup has succeeded for 26 hours" in firing[0]["annotations"]["summary"]
        assert "plasma-backup" in firing[0]["annotations"]["runbook"]
    finally:
        restore = f"touch -d @{stamp} {STAMP}" if stamp else f"rm -f {STAMP}"
        host.run(f"{restore} && systemctl start plasma-metrics.service")
        host.run(f"systemctl stop {WEBHOOK_UNIT}")
