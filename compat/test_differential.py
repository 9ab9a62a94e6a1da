"""Differential suite: every case in cases.CASES runs against real ZooKeeper 3.8 and against the
system under test (Corral, or a second ZooKeeper with COMPAT_TARGET=zookeeper); the normalized
transcripts must be identical.  Known, documented divergences (DIVERGENCES.md) are xfailed with
their reason when they differ - never silently skipped.
"""

import difflib
import os

import pytest

from cases import CASES
from difftool import run_case
from known_divergences import KNOWN

NAMES = sorted(CASES)


def _dump(name, server, transcript):
    out = os.environ.get("COMPAT_DUMP")
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "%s.%s.txt" % (name, server.name)), "w") as f:
            f.write("\n".join(transcript) + "\n")


@pytest.mark.parametrize("name", NAMES)
def test_case(name, zk_server, target_server):
    ref = run_case(zk_server, name, CASES[name])
    _dump(name, zk_server, ref)
    assert target_server.alive(), "%s died before case; log tail:\n%s" % (target_server.name, target_server.log_tail())
    got = run_case(target_server, name, CASES[name])
    _dump(name, target_server, got)
    if got == ref:
        return
    diff = "\n".join(difflib.unified_diff(ref, got, "zookeeper", target_server.name, lineterm="", n=2))
    if not target_server.alive():
        diff += "\n%s DIED; log tail:\n%s" % (target_server.name, target_server.log_tail())
    if name in KNOWN:
        pytest.xfail("known divergence: %s\n%s" % (KNOWN[name], diff))
    pytest.fail("transcripts differ for %s:\n%s" % (name, diff), pytrace=False)


def test_case_count():
    assert len(CASES) >= 200, len(CASES)
