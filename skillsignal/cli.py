"""The ``skillsignal`` command line. The stages (spaCy, the model, Scrapy, the server) are imported
inside the command that needs them, marked ``# lazy``, so that ``--help`` answers at once."""

from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import sys
from contextlib import nullcontext
from pathlib import Path

import typer

from skill_taxonomy.cli import app as taxonomy_app

from .core.config import get_settings
from .core.state_files import check_sqlite_file, store_remedy
from .progress import progress_bar

app = typer.Typer(
    help=(
        "SkillSignal: crawl job postings, extract skills / national occupation / level, index them, "
        "and serve demand signals. Settings come from SKILLSIGNAL_* environment variables "
        "(e.g. SKILLSIGNAL_DATA_DIR=./data)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
log = logging.getLogger("skillsignal")


def _setup_logging(verbose: bool = False) -> None:
    level = logging.DEBUG if verbose else getattr(logging, get_settings().log_level.upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for noisy in ("jieba", "httpx", "urllib3", "filelock", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at DEBUG level."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Where the database, crawl state and models live (SKILLSIGNAL_DATA_DIR)."
    ),
) -> None:
    if data_dir is not None:
        os.environ["SKILLSIGNAL_DATA_DIR"] = str(data_dir)
        get_settings.cache_clear()
    _setup_logging(verbose)


def _count_lines(path: Path) -> int:
    """Non-empty lines of a file (what ``extract`` counts as its lines)."""
    with path.open("rb") as fh:
        return sum(1 for raw in fh if raw.strip())


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


def _clear_errors(command):
    """One line and exit code 2, not a traceback, when the store is damaged or refuses the
    work (StoreError says what is wrong and what to do) or a crawl cannot start. An SQLite store
    whose file is empty, not SQLite or truncated is refused before the command imports anything
    (the store's own check, run early: ingest and serve would otherwise load spaCy and torch first)."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        from crawlers.runner import CrawlError  # lazy: keeps `skillsignal --help` fast
        from storage import StoreError, corrupt_error, is_corruption  # lazy: keeps `skillsignal --help` fast

        try:
            settings = get_settings()
            if settings.backend == "sqlite":
                check_sqlite_file(settings.db_path, store_remedy(settings.db_path))
            return command(*args, **kwargs)
        except (StoreError, CrawlError) as exc:
            _fail(str(exc))
        except sqlite3.DatabaseError as exc:
            if not is_corruption(exc):
                raise
            _fail(str(corrupt_error(get_settings().db_path, exc)))

    return run


@app.command()
def demo(
    detach: bool = typer.Option(
        True,
        "--detach/--foreground",
        help="Leave the API running in the background and return (default), or serve in the foreground.",
    ),
    port: int = typer.Option(None, help="API port (default SKILLSIGNAL_API_PORT, 8000)."),
    history: bool = typer.Option(
        True,
        "--history/--no-history",
        help="Also load the generated 30-month posting history (source demo-history) for the catalogue and forecasts.",
    ),
) -> None:
    """Run the whole pipeline on the bundled demo job board: serve the board on 127.0.0.1, crawl it
    with the Scrapy spider, extract, index into SQLite, start the API and print the URLs to open.
    Re-running it updates the same records (no double counting)."""
    from .demo_job import run_demo  # lazy: keeps `skillsignal --help` fast

    try:
        run_demo(get_settings(), detach=detach, port=port, history=history)
    except RuntimeError as exc:
        _fail(str(exc))


@app.command()
@_clear_errors
def crawl(
    urls: list[str] = typer.Argument(..., help="Start URLs: list pages or sitemap.xml of JobPosting sites."),
    polite: bool = typer.Option(
        True, "--polite/--no-polite", help="Delays, AutoThrottle and robots.txt (turn off only for your own sites)."
    ),
    max_requests: int | None = typer.Option(None, help="Request budget for this run."),
    close_unseen: bool = typer.Option(
        True,
        "--close-unseen/--keep-unseen",
        help="When the crawl runs to its end, close the stored postings of its sources that it no longer found "
        "(posting duration). --keep-unseen for a crawl that covers only part of a source. "
        "A distributed crawl (--redis) never closes any.",
    ),
    redis: str | None = typer.Option(
        None,
        "--redis",
        metavar="URL",
        help="Share this crawl through Redis (redis://host:6379/0, default SKILLSIGNAL_CRAWL_REDIS_URL): "
        "every process started with the same URLs and Redis, on any machine, takes requests from one queue "
        "and one duplicate filter; each stops when the queue is empty and no process is busy.",
    ),
    extract: bool = typer.Option(
        True, "--extract/--no-extract", help="Extract facts while crawling (--no-extract stores raw postings)."
    ),
) -> None:
    """Crawl JobPosting sites with the Scrapy spider; every posting is stored, extracted and indexed.
    State is kept under <data_dir>/crawl (or in Redis with --redis), so an interrupted crawl resumes."""
    from crawlers.runner import run_crawl  # lazy: keeps `skillsignal --help` fast

    settings = get_settings()
    if redis is not None and not redis.startswith(("redis://", "rediss://")):
        _fail(f"--redis wants a redis:// or rediss:// URL, not {redis!r}")
    overrides = None if close_unseen else {"SKILLSIGNAL_CLOSE_UNSEEN": False}
    stats = run_crawl(
        urls,
        settings=settings,
        polite=polite,
        max_requests=max_requests,
        scrapy_overrides=overrides,
        extract=extract,
        redis_url=redis,
    )
    typer.echo(stats.model_dump_json(indent=2))
    found = stats.postings_found + stats.unchanged + stats.skipped_done
    if not found and (stats.download_errors or stats.http_errors):  # every way in failed: not a success
        _fail(
            f"nothing could be read from {', '.join(urls)}: {stats.download_errors} download errors, "
            f"{stats.http_errors} HTTP error answers, no posting found (the log: {stats.log_file}). Check the "
            "URL, the network and the site's robots.txt, then run the same command again: the crawl resumes"
        )


@app.command()
@_clear_errors
def ingest(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSONL, CSV or XLSX file (UTF-8 or GBK)."),
    mapping: str | None = typer.Option(
        None, help="Column mapping: a YAML/JSON file, or 'file_col=field,...' pairs onto the posting fields."
    ),
    source: str | None = typer.Option(None, help="Source name for records that carry none."),
    extract: bool = typer.Option(True, "--extract/--no-extract", help="Extract facts while ingesting."),
    bulk: bool | None = typer.Option(
        None,
        "--bulk/--no-bulk",
        help="A large import (a first load, a historical dump about the size of the store or larger): the "
        "SQLite store builds its date-keyed indexes and roll-ups once at the end instead of per posting — "
        "several times faster for postings in any date order, but the end takes time in proportion to the "
        "whole store (~2.5 min per million postings), so not for a daily top-up. Queries meanwhile stay "
        "right but scan rows; an interrupted load is finished by the next command that opens the store. "
        "Default: on for a file of at least SKILLSIGNAL_BULK_LOAD_MIN_POSTINGS (50,000) records that is at "
        "least as large as the store.",
        show_default=False,
    ),
) -> None:
    """Import a file of postings other scrapers left. Records are upserted by id: importing the
    same file twice leaves each posting once. With SKILLSIGNAL_REDIS_URL set the postings are stored
    raw and their extraction queued to `skillsignal worker` processes ("queued" in the output)."""
    from crawlers.importers import MappingError, estimate_records, import_file  # lazy: keeps `skillsignal --help` fast

    from .pipeline import IngestPipeline  # lazy: keeps `skillsignal --help` fast

    try:
        records = import_file(path, mapping, source=source)
    except (MappingError, ValueError, OSError) as exc:
        _fail(f"{exc} (see `skillsignal ingest --help` for the mapping forms)")
    from nlp.parallel import worker_count  # lazy: keeps `skillsignal --help` fast

    from .workers import extraction_queue  # lazy: Celery loads only when asked to

    settings = get_settings()
    queue = extraction_queue(settings) if extract else None
    expected = estimate_records(path)
    workers = worker_count(settings, expected) if extract and queue is None else 1
    pipeline = IngestPipeline(settings, extract=extract, workers=workers, queue=queue)
    bad = 0

    def good_postings():
        nonlocal bad
        for item in records:
            if isinstance(item, Exception):
                bad += 1
                log.warning("%s", item)
            else:
                yield item

    if extract and queue is None:
        _ = pipeline.extractor  # load the model before the bar starts counting
    if bulk is None:  # a first load or a dump at least the store's size, and a large one
        stored = int(str(pipeline.store.stats()["postings"]))
        bulk = (expected or 0) >= max(settings.bulk_load_min_postings, stored)
    loading = pipeline.store.bulk_load(progress=lambda step: typer.echo(step, err=True)) if bulk else nullcontext()
    with loading, progress_bar("ingest", total=expected) as bar:
        stats = pipeline.process(good_postings(), progress=bar.advance)
    pipeline.close()
    result = stats.model_dump()
    result["rejected_records"] = bad
    result["bulk_load"] = bulk
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2))


@app.command()
def extract(
    input: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="JSONL of postings (flat records), UTF-8 or GBK/GB18030."
    ),
    output: Path = typer.Option(..., "-o", "--output", help="JSONL to write: one line per input line."),
    embeddings: bool | None = typer.Option(
        None,
        "--embeddings/--no-embeddings",
        help="Use the sentence-embedding model (slower, better recall). Default: SKILLSIGNAL_USE_EMBEDDINGS (on).",
        show_default=False,
    ),
) -> None:
    """Extract occupation, level, skills, competencies and new terms from a JSONL file, without storing.
    A line that cannot be processed gets an "error" field and the run goes on."""
    from nlp.batch import extract_jsonl  # lazy: keeps `skillsignal --help` fast

    with progress_bar("extract", total=_count_lines(input), unit="lines") as bar:
        stats = extract_jsonl(input, output, settings=get_settings(), use_embeddings=embeddings, progress=bar.advance)
    typer.echo(json.dumps(stats, ensure_ascii=False, default=str))


@app.command()
@_clear_errors
def reprocess(
    only_missing: bool = typer.Option(False, help="Only postings never extracted (e.g. after a crash)."),
) -> None:
    """Re-run extraction over the stored postings (after a taxonomy or extractor change)."""
    from nlp.parallel import worker_count  # lazy: keeps `skillsignal --help` fast

    from .pipeline import IngestPipeline  # lazy: keeps `skillsignal --help` fast

    pipeline = IngestPipeline(get_settings())
    counts = pipeline.store.stats()
    postings, extracted = counts["postings"], counts["extracted"]
    assert isinstance(postings, int) and isinstance(extracted, int), "every backend counts postings as int"
    total = postings - (extracted if only_missing else 0)
    pipeline.workers = worker_count(pipeline.settings, total)
    _ = pipeline.extractor  # load the model before the bar starts counting
    with progress_bar("reprocess", total=total) as bar:
        stats = pipeline.reprocess(only_unextracted=only_missing, progress=bar.advance)
    pipeline.close()
    typer.echo(stats.model_dump_json(indent=2))


@app.command()
@_clear_errors
def serve(
    host: str | None = typer.Option(None, help="Bind address (default SKILLSIGNAL_API_HOST, 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default SKILLSIGNAL_API_PORT, 8000)."),
) -> None:
    """Serve the query API (OpenAPI docs at /docs) in the foreground."""
    import uvicorn  # lazy: keeps `skillsignal --help` fast

    from .server import build_app  # lazy: keeps `skillsignal --help` fast

    settings = get_settings()
    uvicorn.run(
        build_app(settings), host=host or settings.api_host, port=port or settings.api_port, log_level="warning"
    )


@app.command()
@_clear_errors
def worker(
    concurrency: int | None = typer.Option(
        None,
        "--concurrency",
        "-c",
        min=1,
        help="Extraction processes on this machine, one core each is best (default SKILLSIGNAL_WORKER_CONCURRENCY, 2).",
        show_default=False,
    ),
) -> None:
    """Extract queued postings: a Celery worker on SKILLSIGNAL_REDIS_URL's queue (SKILLSIGNAL_WORKER_QUEUE).

    `skillsignal ingest`, crawls and POST /v1/postings store postings raw and queue their ids when
    SKILLSIGNAL_REDIS_URL is set; run this on any number of machines sharing the store and the Redis.
    Each of the N processes extracts one task (SKILLSIGNAL_WORKER_BATCH_SIZE postings) at a time and
    acknowledges it only once saved: a killed process's task is redelivered at once, a lost worker's
    after SKILLSIGNAL_WORKER_VISIBILITY_TIMEOUT seconds, and a redelivered posting is never counted
    twice. Stop with Ctrl-C (waits for the tasks running) or SIGTERM."""
    settings = get_settings()
    if not settings.redis_url:
        _fail("skillsignal worker needs a task queue: set SKILLSIGNAL_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    from .workers import run_worker  # lazy: keeps `skillsignal --help` fast

    run_worker(settings, concurrency or settings.worker_concurrency, loglevel=settings.log_level.upper())


@app.command()
def stop() -> None:
    """Stop an API server that `skillsignal demo` left running in the background."""
    from .daemon import stop_background_server  # lazy: keeps `skillsignal --help` fast

    stopped = stop_background_server(get_settings())
    typer.echo("stopped the background API server" if stopped else "no background API server was running")


# -- the catalogue (紧缺人才目录) ---------------------------------------------------------------
@app.command()
@_clear_errors
def catalogue(
    period: str = typer.Option(..., "--period", help="2026-07 (a month), 2026Q3 (a quarter) or 2026 (a year)."),
    region: str | None = typer.Option(None, help="东部, 中部, 西部 or 东北 (or east, central, west, northeast)."),
    province: str | None = typer.Option(None, help="A province's short name, e.g. 广东."),
    supply: Path | None = typer.Option(
        None,
        exists=True,
        dir_okay=False,
        help="CSV/XLSX of graduates by major × province × year, or of job seekers by occupation: adds "
        "demand ÷ supply (without it the figure is demand tightness, 需求紧张度, never a shortage).",
    ),
    min_sample: int = typer.Option(30, "--min-sample", min=1, help="Fewest unique postings a rated cell needs."),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write FILE.xlsx, FILE.html or FILE.md (the format from the suffix)."
    ),
    rows: int = typer.Option(30, min=1, help="Entries printed when there is no -o."),
) -> None:
    """The urgently-needed-talent catalogue of a period: every occupation × level rated critical /
    elevated / normal against its own history and its peers (suppressed below --min-sample), with the
    indicators behind each rating, the published thresholds, top skills, competencies and majors.
    Without -o a short table is printed."""
    from signals.catalogue import build_catalogue, region_id  # lazy: keeps `skillsignal --help` fast
    from signals.catalogue_files import file_format, to_text, write_catalogue  # lazy: as above
    from signals.periods import parse_period  # lazy: as above
    from signals.supply import load_supply  # lazy: as above
    from skill_taxonomy import default_taxonomy  # lazy: as above
    from storage import open_store  # lazy: as above

    try:  # everything the user typed, checked before the store is read
        parse_period(period)
        region_id(region)
        if output is not None:
            file_format(output)
            if not output.parent.is_dir():
                raise ValueError(f"cannot write {output}: no directory {output.parent}")
        table = load_supply(supply) if supply is not None else None
    except ValueError as exc:
        _fail(str(exc))
    settings = get_settings()
    store = open_store(settings)
    try:
        found = build_catalogue(
            store,
            default_taxonomy(settings.taxonomy_overlay),
            period,
            region=region,
            province=province,
            supply=table,
            min_sample=min_sample,
        )
    finally:
        store.close()
    if output is None:
        typer.echo(to_text(found, limit=rows), nl=False)
        return
    try:
        write_catalogue(found, output)
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")
    typer.echo(f"wrote the {found.period} catalogue ({len(found.entries)} entries) to {output}")


@app.command()
@_clear_errors
def stats() -> None:
    """Print what the store holds: postings, extracted, errors, duplicates."""
    from storage import open_store  # lazy: keeps `skillsignal --help` fast

    typer.echo(json.dumps(open_store(get_settings()).stats(), ensure_ascii=False, indent=2))


@app.command()
@_clear_errors
def backtest(
    origins: int = typer.Option(4, min=1, max=24, help="Rolling origins, one month apart (Job-SDF's test split: 4)."),
    window: int | None = typer.Option(
        None, min=6, help="Months of input at each origin (Job-SDF's deep models: 6); default all before it."
    ),
    occupation: list[str] = typer.Option([], "--occupation", help="Occupation code (repeatable)."),
    region: list[str] = typer.Option([], "--region", help="east, central, west or northeast (repeatable)."),
    province: list[str] = typer.Option([], "--province", help="Province, e.g. 广东 (repeatable)."),
    skill: list[str] = typer.Option([], "--skill", help="Skill id (repeatable; a posting needs any)."),
    level: list[str] = typer.Option([], "--level", help="初级, 中级 or 高级 (repeatable)."),
    start: str | None = typer.Option(None, help="First posting date, YYYY-MM-DD."),
    end: str | None = typer.Option(None, help="Last posting date, YYYY-MM-DD."),
    metric: str = typer.Option("unique_postings", help="unique_postings or total_postings."),
    total_only: bool = typer.Option(False, "--total-only", help="Only the total series, not each occupation."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON instead of tables."),
) -> None:
    """Backtest the forecast models on the stored monthly series, Job-SDF's protocol.

    For the filter's total and each occupation: at every rolling origin (3 months out; the input is
    every month before it, or the last --window months) AutoETS, AutoARIMA, SeasonalNaive(12) and
    Naive forecast the next 3 months; prints MAE, RMSE, SMAPE and RRMSE per model (baselines
    starred). Seasonal models run only where 24 months precede the first origin.
    """
    from pydantic import ValidationError  # lazy: keeps `skillsignal --help` fast

    from signals.jobsdf import format_table, run_backtest  # lazy: statsforecast is slow to import
    from storage import PostingFilter, open_store  # lazy: keeps `skillsignal --help` fast

    if metric not in ("unique_postings", "total_postings"):
        _fail(f"--metric must be unique_postings or total_postings, not {metric!r}")
    try:
        flt = PostingFilter(
            occupations=occupation,
            regions=region,
            provinces=province,
            skills=skill,
            levels=level,
            start=start,
            end=end,
        )
    except ValidationError as exc:
        _fail("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()))
    store = open_store(get_settings())
    report = run_backtest(
        store,
        flt,
        origins=origins,
        window=window,
        metric=metric,  # type: ignore[arg-type]  # checked above
        per_occupation=not total_only,
        progress=lambda code: log.debug("backtest %s", code),
    )
    store.close()
    typer.echo(report.model_dump_json(indent=2) if as_json else format_table(report))


app.add_typer(taxonomy_app, name="taxonomy", help="Validate, inspect and search the skill taxonomy.")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
