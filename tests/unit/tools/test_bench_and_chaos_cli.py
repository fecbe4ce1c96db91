"""What `make bench` and the chaos runners tell a person before and while they run: how long it will
take, where it is, and what each option means."""

import importlib
import subprocess
import sys
from dataclasses import fields
from types import SimpleNamespace

import pytest

import bench.__main__ as bench
from tests.scripts import REPO_ROOT


def test_bench_announces_its_duration_and_shows_progress(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench, "BENCHMARKS", {"quick": SimpleNamespace(run=lambda: {"quick_ratio": 1.0})})
    monkeypatch.setattr(bench, "GOALS", [("quick <= 2", "quick_ratio", 2.0, None)])
    monkeypatch.setattr(bench, "RESULTS", tmp_path / "latest.json")
    bench.main([])
    first = capsys.readouterr().out
    assert "1 benchmark(s), minutes each; this first run records their durations" in first
    assert "[1/1] quick ..." in first
    assert "[1/1] quick done in 0 s" in first
    bench.main([])
    assert "1 benchmark(s), about 0 s as the last run here took" in capsys.readouterr().out


@pytest.mark.parametrize("runner", ["cmdb", "rotation", "loadtest"])
def test_each_chaos_option_is_described_in_help(runner):
    shown = subprocess.run(
        [sys.executable, "-m", f"chaos.{runner}", "--help"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    text = " ".join(shown.stdout.split())
    module = importlib.import_module(f"chaos.{runner}")
    for option in fields(module.Options):
        flag = "--" + option.name.replace("_", "-")
        described = (
            f"{flag} {option.name.upper()} {module.OPTION_HELP[option.name]} (default: {option.default})"
        )
        assert described in text, described
