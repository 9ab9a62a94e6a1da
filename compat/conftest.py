"""pytest glue for the Corral compatibility suite: server fixtures live in servers.py."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from servers import zk_server, target_server, any_server  # noqa: E402,F401
