"""HTTPS with a certificate from an ACME directory (pebble inside the test host, see prepare.yml), as a
user's browser and an operator meet it. The tests that switch settings restore the scenario's own."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support import scenario
from tests.support.hub import Hub, UserServer, container_address

testinfra_hosts = ["ansible://all"]

NAME = "hub.plasma.test"  # the scenario's hub_acme_domains


def served(host, field: str = "-serial") -> str:
    """A field of the certificate the hub serves for its name."""
    return host.check_output(f"openssl s_client -connect 127.0.0.1:443 -servername {NAME} </dev/null 2>/dev/null | openssl x509 -noout {field}")


def wait_for(condition, seconds: float) -> bool:
    """Whether condition() became true within seconds, asked twice a second."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def converge_hub(extra_vars: dict | None = None) -> tuple[int, str]:
    """The hub playbook on the test host: its exit code, and its output with white space as one space."""
    result = scenario.run_playbook("plasma.platform.hub", extra_vars)
    return result.returncode, " ".join((result.stdout + result.stderr).split())


def test_the_certificate_chains_to_the_directory_root_for_the_hub_name(hub):
    # hub.session() verifies the chain against pebble's root and the name, as a browser would.
    assert hub.session().get(f"{hub.base_url}/hub/login", timeout=30).status_code == 200
    # Not any certificate would pass: without pebble's root the same request is refused.
    with pytest.raises(requests.exceptions.SSLError):
        Hub(hub.base_url, server_name=NAME).session().get(f"{hub.base_url}/hub/login", timeout=30)


def test_plain_http_redirects_to_https(hub):
    address = container_address(scenario.scenario_host())
    answer = requests.get(f"http://{address}/hub/login?next=%2Fhub%2Fhome", headers={"Host": NAME}, allow_redirects=False, timeout=30)
    assert answer.status_code == 301
    assert answer.headers["Location"] == f"https://{NAME}/hub/login?next=%2Fhub%2Fhome"


def test_login_cookies_are_secure_and_browsers_are_told_to_stay_on_https(hub):
    session, answer = hub.login("alice", "alice-pass")
    assert answer.status_code == 302
    login_cookies = [cookie for cookie in session.cookies if cookie.name.startswith("jupyterhub-")]
    assert login_cookies, answer.headers
    assert all(cookie.secure for cookie in login_cookies), [(c.name, c.secure) for c in login_cookies]
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_tls_older_than_1_2_is_refused_by_the_server(host):
    # The client allows TLS 1.1 (security level 0), so a refusal is the server's.
    old = host.run(f"openssl s_client -connect 127.0.0.1:443 -servername {NAME} -tls1_1 -cipher DEFAULT@SECLEVEL=0 </dev/null")
    assert old.rc != 0
    assert "alert protocol version" in old.stdout + old.stderr, old.stdout + old.stderr
    assert host.run(f"openssl s_client -connect 127.0.0.1:443 -servername {NAME} -tls1_2 </dev/null").rc == 0


def test_renewal_is_scheduled(host):
    timer = host.service("certbot.timer")
    assert timer.is_running and timer.is_enabled
    assert host.file("/etc/letsencrypt/renewal-hooks/deploy/plasma-hub-reload-nginx").mode == 0o755


def test_a_renewed_certificate_is_served_without_restarting_the_hub_or_users_servers(host, hub):
    server = UserServer(hub, "alice", hub.token("alice", "alice-pass"))
    assert server.start("Environment A").status_code in (201, 202), server.progress()
    try:
        serial = served(host)
        running = host.check_output("docker inspect --format '{{.Id}} {{.State.StartedAt}}' jupyter-alice")
        hub_pids = host.check_output("systemctl show --property MainPID --value jupyterhub jupyterhub-proxy")
        # What certbot.timer runs, forced: the certificate is not due for years.
        renewal = host.run("certbot renew --force-renewal --no-random-sleep-on-renew --cert-name plasma-hub")
        assert renewal.rc == 0, renewal.stdout + renewal.stderr
        # nginx's reload returns once signalled; its new workers take over a moment later.
        assert wait_for(lambda: served(host) != serial, seconds=30)
        assert host.check_output("docker inspect --format '{{.Id}} {{.State.StartedAt}}' jupyter-alice") == running
        assert host.check_output("systemctl show --property MainPID --value jupyterhub jupyterhub-proxy") == hub_pids
        # The same token, the same server, over the new certificate.
        assert server.contents().status_code == 200
    finally:
        server.stop()


def test_plain_http_beyond_loopback_is_refused_before_anything_changes():
    code, output = converge_hub({"hub_acme_domains": []})
    assert code != 0
    assert "Without HTTPS the hub would serve its login page over plain HTTP on every address of this host" in output
    assert "changed=0" in output


def test_a_bad_directory_fails_clearly_and_keeps_the_certificate_in_service(host, hub):
    serial = served(host)
    code, output = converge_hub({"hub_acme_directory": "https://acme.plasma.test:14001/dir"})
    assert code != 0
    assert "No certificate for hub.plasma.test from https://acme.plasma.test:14001/dir: " in output, output
    assert "Connection refused" in output and "The previous certificate stays in service." in output, output
    assert served(host) == serial
    assert hub.session().get(f"{hub.base_url}/hub/login", timeout=30).status_code == 200
    # Back to the scenario's directory: the certificate in service is what it asks for, so nothing changes.
    code, output = converge_hub()
    assert code == 0 and "changed=0" in output, output


def test_switching_to_an_operators_certificate_and_back_is_a_rerun(host, hub):
    host.run_expect(
        [0],
        f"openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN={NAME}/O=operator -addext subjectAltName=DNS:{NAME} "
        "-keyout /etc/ssl/private/operator.key -out /etc/ssl/certs/operator.crt",
    )
    operator = {
        "hub_acme_domains": [],
        "hub_https_certificate": "/etc/ssl/certs/operator.crt",
        "hub_https_key": "/etc/ssl/private/operator.key",
        "hub_hsts_max_age": 0,
    }
    try:
        code, output = converge_hub(operator)
        assert code == 0, output
        assert "operator" in served(host, "-subject")  # O=operator (OpenSSL 3.0 writes "O = operator")
        headers = host.check_output(f"curl -sSI --resolve {NAME}:443:127.0.0.1 -k https://{NAME}/hub/login")
        assert "strict-transport-security" not in headers.lower()
    finally:
        code, output = converge_hub()
    assert code == 0, output
    assert "Pebble" in served(host, "-issuer")
    assert hub.session().get(f"{hub.base_url}/hub/login", timeout=30).status_code == 200


def test_the_certificate_hook_passes_shellcheck(host):
    scenario.assert_shellcheck_passes(host, "/etc/letsencrypt/renewal-hooks/deploy/plasma-hub-reload-nginx")


def test_https_switched_off_then_on_again_moves_the_proxy_and_restarts_the_hub_once_each_way(host, hub):
    try:
        code, output = converge_hub({"hub_acme_domains": [], "hub_allow_plain_http": True})
        assert code == 0, output
        # HTTPS off: nginx stopped, the proxy serves port 80 itself.
        assert host.check_output("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1/hub/api/") == "200"
        assert not host.service("nginx").is_running and not host.service("nginx").is_enabled
    finally:
        since = host.check_output("date '+%Y-%m-%d %H:%M:%S'")
        host.run_expect([0], "sleep 1")
        code, output = converge_hub()
    assert code == 0, output
    # On again: the proxy moved to loopback behind nginx, and the hub restarted once with it (not a second time).
    starts = host.check_output(f"journalctl -u jupyterhub --since '{since}' -o cat | grep -c '^Started' || true")
    assert starts == "1", host.check_output(f"journalctl -u jupyterhub --since '{since}' -o cat")
    ports = host.check_output("ss -Hltnp")
    assert "127.0.0.1:8000 " in ports and '"node"' in ports
    assert '"node"' not in "\n".join(line for line in ports.splitlines() if ":443 " in line or ":80 " in line)
    assert "Pebble" in served(host, "-issuer")
    assert hub.session().get(f"{hub.base_url}/hub/login", timeout=30).status_code == 200
