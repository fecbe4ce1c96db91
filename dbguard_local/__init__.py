"""The local stack behind `make run`: template.yaml on 127.0.0.1 with moto as the embedded AWS.

Development and test tooling only; never deployed.
"""

import sys
from pathlib import Path

# The shared package, as the functions see it in their layer (/opt/python in Lambda).
_LAYER = str(Path(__file__).resolve().parents[1] / "layers" / "common")
if _LAYER not in sys.path:
    sys.path.append(_LAYER)
