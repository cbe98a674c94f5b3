"""``skillsignal taxonomy`` commands, run through the real CLI app."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from typer.testing import CliRunner

from skillsignal.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["taxonomy", *args])


def test_help_lists_every_command():
    res = run("--help")
    assert res.exit_code == 0
    for cmd in ("validate", "stats", "show", "search", "coverage"):
        assert cmd in res.output
    for cmd in ("validate", "stats", "show", "search", "coverage"):
        assert run(cmd, "--help").exit_code == 0


def test_validate_ok_and_broken_overlay(tmp_path):
    res = run("validate")
    assert res.exit_code == 0 and res.output.startswith("ok:")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"version": "b", "aliases": {"pytorch": ["Keras"]}}), encoding="utf-8")
    res = run("validate", "--overlay", str(bad))
    assert res.exit_code == 1
    assert "keras" in res.output.lower() and "pytorch" in res.output


def test_stats_json_matches_the_loaded_taxonomy():
    from skill_taxonomy import load_taxonomy

    tax = load_taxonomy()
    res = run("stats", "--json")
    assert res.exit_code == 0
    data = json.loads(res.output)
    assert data["skills"] == len(tax.skills)
    assert data["aliases"] == sum(len(s.aliases) for s in tax.skills.values())
    assert sum(data["skills_by_type"].values()) == len(tax.skills)
    ai = data["by_occupation"]["2-02-38-01"]
    assert ai["core"] and ai["skills"] >= 60 and set(ai["competencies"]) == {"初级", "中级", "高级"}
    text = run("stats")
    assert text.exit_code == 0 and "2-02-38-09" in text.output


def test_show_skill_by_alias_and_occupation():
    res = run("show", "K8s")
    assert res.exit_code == 0 and "kubernetes" in res.output and "2-02-38-04" in res.output
    res = run("show", "2-02-38-01")
    assert res.exit_code == 0 and "人工智能" in res.output and "初级" in res.output
    res = run("show", "pytroch")
    assert res.exit_code == 1 and "pytorch" in res.output


@pytest.mark.parametrize(
    "query, expect", [("卷积", "cnn"), ("kubernets", "kubernetes"), ("tensorflw", "tensorflow"), ("区块", "blockchain")]
)
def test_search_finds_chinese_english_and_typos(query, expect):
    res = run("search", query, "-n", "5")
    assert res.exit_code == 0
    assert expect in [line.split()[1] for line in res.output.splitlines()]


def test_coverage_command(shared_dir):
    gold = shared_dir / "eval" / "labeled-dev.gold.jsonl"
    res = run("coverage", str(gold))
    assert res.exit_code == 0
    resolved, total = res.output.split()[1].split("/")
    assert int(resolved) / int(total) >= 0.95


def test_module_entry_point_runs_in_a_subprocess():
    out = subprocess.run(
        [sys.executable, "-m", "skill_taxonomy.cli", "validate"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "skills" in out.stdout
