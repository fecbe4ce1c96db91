"""Reliability runs under faults: `make loadtest`, `make chaos-cmdb`, `make chaos-rotation`.

Each runner is a module (`python -m chaos.loadtest --help`); a short version of each runs in the
test suite (tests/integration/test_loadtest.py, tests/integration/chaos/). Figures: docs/reliability.md.
"""

import sys
from pathlib import Path

_LAYER = str(Path(__file__).resolve().parents[1] / "layers" / "common")
if _LAYER not in sys.path:  # what the functions see as /opt/python (pytest sets it too)
    sys.path.insert(0, _LAYER)
