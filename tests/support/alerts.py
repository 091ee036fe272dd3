"""The operator's alert receiver, as the scenarios' tests run it on a test host: a webhook (the inventory's
monitoring_alert_webhook_url) that appends every request body Alertmanager posts to a file, one a line."""

from __future__ import annotations

import json

WEBHOOK_LOG = "/run/plasma-test-webhook.jsonl"
WEBHOOK_UNIT = "plasma-test-webhook"


def webhook_program(port: int) -> str:
    """The receiver, a Python program listening on the host's loopback at port."""
    return f"""
import http.server
class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open({WEBHOOK_LOG!r}, "ab") as log:
            log.write(body.replace(b"\\n", b" ") + b"\\n")
        self.send_response(200)
        self.end_headers()
http.server.HTTPServer(("127.0.0.1", {port}), Receiver).serve_forever()
"""


def posted_alerts(log: str, alertname: str, status: str = "firing") -> list[dict]:
    """The alerts of that name and status in the receiver's log (its text)."""
    bodies = [json.loads(line) for line in log.splitlines() if line.strip()]
    return [alert for body in bodies for alert in body["alerts"] if alert["labels"]["alertname"] == alertname and alert["status"] == status]
