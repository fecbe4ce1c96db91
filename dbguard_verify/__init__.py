"""The auditors' verifier of dbguard's signed hourly digests (docs/audit-digests.md):
`python -m dbguard_verify --from ... --to ...`. Reads only: its IAM policy is in that document."""

import sys
from pathlib import Path

# The shared package (digest format, canonical form, the rules), from this checkout
_LAYER = str(Path(__file__).resolve().parents[1] / "layers" / "common")
if _LAYER not in sys.path:
    sys.path.append(_LAYER)
