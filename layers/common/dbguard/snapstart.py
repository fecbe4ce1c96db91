"""What an execution environment restored from a SnapStart snapshot must renew (docs/architecture.md).

With `EnableSnapStart`, Lambda initialises each function once per published version and resumes
every new environment from that one snapshot, so whatever init left in memory is shared by all of
them. The functions build only clients and settings at init (no secret read, no clock kept, no
connection opened: the caches fill on the first request, after the restore). What remains is the
`random` module's state, seeded once at import: botocore and the JumpServer transport draw their
back-off jitter from it, and environments restored from one snapshot would draw the same delays and
retry throttled requests in lockstep. uuid4 and `secrets` read the OS's entropy on every call and
need nothing.
"""

from __future__ import annotations

import random


def renew_after_restore() -> None:
    random.seed()  # from os.urandom: this environment's own sequence from here on


def register_restore_hooks() -> None:
    """Have Lambda run renew_after_restore after each restore. The hook library ships with Lambda's
    Python runtimes (not with the layer); elsewhere there are no snapshots and nothing to register."""
    try:
        from snapshot_restore_py import get_after_restore, register_after_restore
    except ImportError:
        return
    if all(hook[0] is not renew_after_restore for hook in get_after_restore()):
        register_after_restore(renew_after_restore)
