"""HTTPS with an operator's certificate (this file runs last: it switches HTTPS on, then off again).
Certificates from an ACME directory are the https scenario's."""

from tests.support.scenario import run_playbook

testinfra_hosts = ["ansible://all"]


def converge_hub(extra_vars: dict) -> None:
    result = run_playbook("plasma.platform.hub", extra_vars)
    assert result.returncode == 0, result.stdout + result.stderr


def listeners(host) -> str:
    """Who listens on which TCP port."""
    return host.check_output("ss -Hltnp")


def test_nginx_serves_the_operators_certificate_in_front_of_the_proxy(host):
    host.run_expect(
        [0],
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=hub.plasma.test "
        "-keyout /etc/ssl/private/plasma-test.key -out /etc/ssl/certs/plasma-test.crt",
    )
    host.run_expect([0], "chmod 600 /etc/ssl/private/plasma-test.key")
    since = host.check_output("date '+%Y-%m-%d %H:%M:%S'")
    host.run_expect([0], "sleep 1")
    converge_hub({"hub_https_certificate": "/etc/ssl/certs/plasma-test.crt", "hub_https_key": "/etc/ssl/private/plasma-test.key"})
    try:
        # The proxy moved to loopback, and the hub restarted once with it (not a second time).
        starts = host.check_output(f"journalctl -u jupyterhub --since '{since}' -o cat | grep -c '^Started' || true")
        assert starts == "1", host.check_output(f"journalctl -u jupyterhub --since '{since}' -o cat")
        served = host.check_output("openssl s_client -connect 127.0.0.1:443 -servername hub.plasma.test </dev/null 2>/dev/null | openssl x509 -noout -subject")
        assert "hub.plasma.test" in served
        assert host.check_output("curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1/hub/api/") == "200"
        assert host.check_output("curl -s -o /dev/null -w '%{http_code} %{redirect_url}' http://127.0.0.1/hub/api/") == ("301 https://127.0.0.1/hub/api/")
        ports = listeners(host)
        assert "127.0.0.1:8000 " in ports and '"node"' in ports
        assert '"node"' not in "\n".join(line for line in ports.splitlines() if ":443 " in line or ":80 " in line)
        # The operator's key stays where and as it was: nginx's master process (root) reads it there.
        assert host.file("/etc/ssl/private/plasma-test.key").mode == 0o600
        assert not host.file("/etc/plasma-platform/proxy-tls").exists
    finally:
        converge_hub({})
    # HTTPS off again: nginx stopped, the proxy serves port 80 itself.
    assert host.check_output("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1/hub/api/") == "200"
    assert not host.service("nginx").is_running and not host.service("nginx").is_enabled
