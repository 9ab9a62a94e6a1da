"""ZooKeeper's Prometheus names: with metricsProvider.className naming ZooKeeper's
PrometheusMetricsProvider, /metrics has every name that provider exports in ZooKeeper
3.8 (compat/fixtures/zk38_prometheus_names.txt, taken from its source; Debian's package
lacks the provider), each with the Prometheus type the provider gives it, and values
that agree with mntr."""

import os
import re
import shutil
import tempfile
import urllib.request

import servers
import zkimport
import zkwire

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "zk38_prometheus_names.txt")
TYPES = {"Gauge": "gauge", "Counter": "counter", "Summary": "summary", "SummarySet": "summary"}


def test_zookeeper_s_prometheus_names_are_all_there():
    root = tempfile.mkdtemp(prefix="corral-zk-metrics-")
    port = servers.free_port()
    corral = zkimport.start_corral_on(os.path.join(root, "corral"), servers.free_port(), [
        "metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider",
        "metricsProvider.httpHost=%s" % servers.HOST, "metricsProvider.httpPort=%d" % port])
    try:
        c = corral.conn(timeout_ms=30000)
        for i in range(5):
            assert c.create("/m%d" % i, b"x").err == 0
            assert c.call("getData", path="/m%d" % i).err == 0
        with urllib.request.urlopen("http://%s:%d/metrics" % (servers.HOST, port), timeout=30) as r:
            page = r.read().decode()
        types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", page, re.M))
        wanted = [l.split() for l in open(FIXTURE) if l.strip() and not l.startswith("#")]
        assert len(wanted) == 149
        missing = [(k, n) for k, n in wanted if types.get(n) != TYPES[k]]
        assert missing == [], missing
        mntr = dict(l.split("\t", 1) for l in zkwire.four_letter(servers.HOST, corral.port, "mntr", 5.0).splitlines()
                    if "\t" in l)
        value = lambda name: float(re.search(r"^%s (\S+)$" % re.escape(name), page, re.M).group(1))
        assert value("znode_count") == float(mntr["zk_znode_count"]) >= 5
        assert value("readlatency_count") >= 5
        assert value("commit_count") == float(mntr["zk_commit_count"])
        c.close()
    finally:
        corral.stop()
        shutil.rmtree(root, ignore_errors=True)
