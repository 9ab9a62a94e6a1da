"""Cases where Corral deliberately or unavoidably differs from ZooKeeper 3.8.
Each entry must have a matching section in DIVERGENCES.md.  A listed case still runs; if it
differs it is reported as xfail with this reason (it passes when the transcripts agree)."""

WATCHER_TYPES_39 = (
    "WatcherType 4 (Persistent) and 5 (PersistentRecursive) in checkWatches/removeWatches are ZooKeeper 3.9 features; 3.8.0 rejects them with MARSHALLINGERROR. Corral follows 3.9, its reference.")

KNOWN = {
    "op_check_standalone": (
        "ZooKeeper 3.8.0 never answers a successful stand-alone check (opcode 13): the request hits a "
        "NullPointerException in SyncRequestProcessor and is dropped (NO_REPLY). Corral answers it."),
    "addwatch_persistent_plus_oneshot": (
        "ZooKeeper 3.8.0 keeps a single watch mode per (connection, path): a later one-shot getData watch "
        "downgrades an earlier PERSISTENT addWatch, so it stops firing after one event. Corral keeps both."),
    "addwatch_recursive_and_persistent_same_path": (
        "ZooKeeper 3.8.0 keeps a single watch mode per (connection, path): addWatch PERSISTENT_RECURSIVE "
        "replaces an earlier PERSISTENT watch on the same path (no NodeChildrenChanged). Corral keeps both."),
    "checkWatches_persistent_with_none_watch": (
        WATCHER_TYPES_39),
    "checkWatches_persistent_with_persistent_watch": (
        WATCHER_TYPES_39),
    "checkWatches_recursive_with_none_watch": (
        WATCHER_TYPES_39),
    "checkWatches_recursive_with_recursive_watch": (
        WATCHER_TYPES_39),
    "removeWatches_persistent_with_none_watch": (
        WATCHER_TYPES_39),
    "removeWatches_persistent_with_persistent_watch": (
        WATCHER_TYPES_39),
    "removeWatches_recursive_with_none_watch": (
        WATCHER_TYPES_39),
    "removeWatches_recursive_with_recursive_watch": (
        WATCHER_TYPES_39),
    "removewatches_wrong_type_keeps_watch": (
        WATCHER_TYPES_39),
    "op_sasl_without_sasl": (
        "With SASL not configured, ZooKeeper 3.8.0 answers every SASL token with an empty token and "
        "keeps the connection, so a client asking for DIGEST-MD5 spins until its session expires. "
        "Corral refuses the first token with AuthFailed and closes, the reply ZooKeeper gives a failed "
        "exchange (DIVERGENCES.md, 'SASL token with SASL not configured')."),
}
