"""The shipped dashboard and alerts against a real Prometheus (Debian's) scraping a
3-member Corral ensemble: `promtool check rules` passes, every dashboard query and every
alert expression (without its threshold) returns series, and CorralQuorumLost fires
once two members are stopped."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import pytest

import ensemble
import servers
import zkwire

HERE = os.path.dirname(os.path.abspath(__file__))
RULES = os.path.join(HERE, "..", "packaging", "prometheus", "corral-alerts.yml")
DASHBOARD = os.path.join(HERE, "..", "packaging", "grafana", "corral-dashboard.json")

pytestmark = pytest.mark.skipif(not shutil.which("prometheus"), reason="Debian's prometheus is not installed")


def api(port, path, **params):
    url = "http://%s:%d/api/v1/%s?%s" % (servers.HOST, port, path, urllib.parse.urlencode(params))
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())["data"]


def alert_expressions():
    text = open(RULES).read()
    return re.findall(r"^\s*- alert: (\S+)\n(?:\s*#.*\n)*\s*expr: (.+)$", text, re.M)


def test_rules_pass_promtool():
    out = subprocess.run(["promtool", "check", "rules", RULES], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert len(alert_expressions()) == 6


def test_dashboard_and_alerts_on_a_real_prometheus():
    metrics_ports = [servers.free_port() for _ in range(3)]
    ens = ensemble.Ensemble(3, extra_cfg=lambda i: (
        "metricsProvider.httpHost=%s\nmetricsProvider.httpPort=%d\n" % (servers.HOST, metrics_ports[i])))
    root = tempfile.mkdtemp(prefix="corral-prometheus-")
    prom = None
    try:
        ens.start()
        cfg = os.path.join(root, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - %s\n"
                    "scrape_configs:\n  - job_name: corral\n    static_configs:\n      - targets: [%s]\n"
                    % (os.path.abspath(RULES), ", ".join('"%s:%d"' % (servers.HOST, p) for p in metrics_ports)))
        port = servers.free_port()
        log = open(os.path.join(root, "prometheus.log"), "wb")
        prom = subprocess.Popen(["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(root, "tsdb"),
                                 "--web.listen-address=%s:%d" % (servers.HOST, port)],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        c = zkwire.ZkConn(servers.HOST, ens.members[0].port, timeout_ms=30000)
        deadline = time.monotonic() + 60
        queries = [t["expr"] for p in json.load(open(DASHBOARD))["panels"] for t in p["targets"]]
        queries += [re.sub(r"\s*(==|>|<)\s*[0-9.]+\s*$", "", e) for _, e in alert_expressions()]
        pending = list(queries)
        i = 0
        while pending:
            assert time.monotonic() < deadline, "no series for: %s" % pending
            # Traffic, so that rates have something to show.
            c.create("/p%d" % i, b"x")
            c.call("getData", path="/p%d" % i)
            i += 1
            try:
                pending = [q for q in pending if not api(port, "query", query=q)["result"]]
            except OSError:
                pass  # Prometheus still starting
            time.sleep(0.5)
        c.close()
        # Two of three stopped: the last one cannot serve, and the page goes out.
        ens.members[1].stop()
        ens.members[2].stop()
        deadline = time.monotonic() + 90
        while True:
            alerts = api(port, "alerts")["alerts"]
            firing = [a for a in alerts if a["labels"]["alertname"] == "CorralQuorumLost" and a["state"] == "firing"]
            if firing:
                break
            assert time.monotonic() < deadline, alerts
            time.sleep(1)
    finally:
        if prom is not None:
            prom.terminate()
            prom.wait(20)
        ens.stop()
        shutil.rmtree(root, ignore_errors=True)
