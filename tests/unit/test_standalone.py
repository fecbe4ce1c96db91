"""The repository stands alone: no tracked file names the folder that sits beside the main checkout on
the maintainers' machine, which a clone does not have (what it held now lives in
tests/contract/recordings and docs/jumpserver.md)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
OUTSIDE_FOLDER = "/".join(("..", "shared"))  # in two parts, so this file does not name it


def _git(*arguments: str) -> subprocess.CompletedProcess[str]:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    return subprocess.run([git, "-C", str(ROOT), *arguments], capture_output=True, text=True, check=False)


def test_no_tracked_file_names_a_folder_outside_the_repository():
    if _git("rev-parse", "--is-inside-work-tree").stdout.strip() != "true":
        pytest.skip("not a git checkout: there is no list of tracked files to read")
    found = _git("grep", "-n", "-F", OUTSIDE_FOLDER)
    assert found.returncode == 1, found.stdout or found.stderr  # 1: no match; 0: matches; else an error
