"""``skillsignal catalogue`` end to end: a generated history in a real SQLite store under the data
directory, the real CLI app; files written by suffix, a table without -o, one error line for bad
input."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from signals.catalogue import build_catalogue
from signals.catalogue_files import to_markdown, to_text
from skill_taxonomy import default_taxonomy
from skillsignal.cli import app
from skillsignal.core.config import Settings, get_settings
from storage import open_store
from tests.api.catalogue_history import PLANTED, generated_history

runner = CliRunner()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli-catalogue") / "data"
    settings = Settings(data_dir=path, use_embeddings=False)
    settings.ensure_dirs()
    store = open_store(settings)
    store.index_postings(generated_history(per_cell=8))
    store.close()
    return path


@pytest.fixture
def run(data_dir, monkeypatch):
    """Invoke the CLI on ``data_dir`` (the --data-dir option sets the environment; restored after)."""
    monkeypatch.setenv("SKILLSIGNAL_DATA_DIR", str(data_dir))
    yield lambda *args: runner.invoke(app, ["--data-dir", str(data_dir), "catalogue", *args])
    get_settings.cache_clear()


def expected(data_dir, **kw):
    store = open_store(Settings(data_dir=data_dir, use_embeddings=False))
    try:
        return build_catalogue(store, default_taxonomy(), "2026Q3", **kw)
    finally:
        store.close()


def test_help_says_what_it_does():
    res = runner.invoke(app, ["catalogue", "--help"])
    assert res.exit_code == 0
    for word in ("--period", "--region", "--province", "--supply", "--min-sample", "2026Q3", "xlsx", "需求紧张度"):
        assert word in res.output, word


def test_without_output_a_table_is_printed(run, data_dir):
    res = run("--period", "2026Q3", "--region", "东部", "--rows", "5")
    assert res.exit_code == 0, res.output
    assert res.output == to_text(expected(data_dir, region="east"), limit=5)
    first = res.output.splitlines()[4]
    assert first.startswith("人工智能工程技术人员 " + PLANTED[0]) and "critical" in first


def test_files_are_written_by_suffix(run, data_dir, tmp_path):
    want = expected(data_dir, province="广东", min_sample=20)
    for name in ("c.xlsx", "c.html", "c.md"):
        res = run("--period", "2026Q3", "--province", "广东", "--min-sample", "20", "-o", str(tmp_path / name))
        assert res.exit_code == 0, res.output
        assert f"({len(want.entries)} entries)" in res.output
    rows = list(load_workbook(tmp_path / "c.xlsx")["catalogue"].iter_rows(values_only=True))
    assert len(rows) == 1 + len(want.entries) and rows[1][0] == want.entries[0].indicators.occupation
    assert (tmp_path / "c.md").read_text(encoding="utf-8") == to_markdown(want)
    assert (tmp_path / "c.html").read_text(encoding="utf-8").count("<tr class=") == len(want.entries)


@pytest.mark.parametrize(
    "args,message",
    [
        (("--period", "2026Q5"), "period '2026Q5'"),
        (("--period", "last year"), "expected YYYY-MM"),
        (("--period", "2026Q3", "--region", "南部"), "unknown region '南部'"),
        (("--period", "2026Q3", "-o", "out.pdf"), "'.pdf'"),
        (("--period", "2026Q3", "-o", "no/such/dir/out.xlsx"), "no directory"),
    ],
)
def test_bad_input_is_one_error_line(run, args, message):
    res = run(*args)
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], res.output


def test_an_unwritable_file_is_one_error_line(run, tmp_path):
    taken = tmp_path / "c.xlsx"
    taken.mkdir()  # a directory where the file should go: unwritable even for root
    res = run("--period", "2026Q3", "-o", str(taken))
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot write {taken}"), res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.xlsx"]  # no temporary file left behind
