"""Cases where Corral deliberately or unavoidably differs from ZooKeeper 3.8.
Each entry must have a matching section in DIVERGENCES.md.  A listed case still runs; if it
differs it is reported as xfail with this reason (it passes when the transcripts agree)."""

KNOWN = {
    "op_check_standalone": (
        "ZooKeeper 3.8.0 never answers a successful stand-alone check (opcode 13): the request hits a "
        "NullPointerException in SyncRequestProcessor and is dropped (NO_REPLY). Corral answers it."),
}
