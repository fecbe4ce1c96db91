"""The repository stands alone: no tracked file names the folder that sits beside the main checkout on
the maintainers' machine, which a clone does not have (what it held now lives in
tests/contract/recordings and docs/jumpserver.md)."""

from __future__ import annotations

import os
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


def test_no_tracked_link_points_outside_the_repository():
    """A clone would hold a dangling link (a worktree's link to a shared .venv was once committed)."""
    if _git("rev-parse", "--is-inside-work-tree").stdout.strip() != "true":
        pytest.skip("not a git checkout: there is no list of tracked files to read")
    staged = _git("ls-files", "-s").stdout.splitlines()
    links = [line.split("\t", 1)[1] for line in staged if line.startswith("120000")]  # mode of a link
    outside = [
        link
        for link in links
        if Path(os.readlink(ROOT / link)).is_absolute()  # names this machine's folders
        or not (ROOT / link).resolve().is_relative_to(ROOT.resolve())
    ]
    assert outside == []
