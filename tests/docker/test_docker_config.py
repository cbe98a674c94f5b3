"""Static checks of docker/ (no Docker engine runs here): the compose file's services, environment,
health checks, dependencies and volumes; the Dockerfile's instructions; that every variable the
files use is a Settings field or a documented compose/scheduler variable; and the crawl scheduler
script, run for real with a stand-in ``skillsignal`` command."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from skillsignal.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "docker-compose.yml"
DOCKERFILE = DOCKER / "Dockerfile"
ENV_EXAMPLE = DOCKER / ".env.example"
LOOP = DOCKER / "scheduler" / "crawl-loop.sh"

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    out = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR:?error} against ``env``."""

    def sub(m: re.Match) -> str:
        name, op, arg = m.group(1) or m.group(4), m.group(2), m.group(3)
        if name in env and (env[name] != "" or op in (None, "-", "?")):
            return env[name]
        if op in (":-", "-"):
            return arg or ""
        if op in (":?", "?"):
            raise AssertionError(f"{name} is required: {arg}")
        return ""

    return _VAR.sub(sub, value)


def _instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), rest.strip()))
    return out


def _service_env(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


# -- compose -------------------------------------------------------------------------------------
def test_compose_has_elasticsearch_api_and_scheduled_crawler(compose):
    services = compose["services"]
    default = {name for name, service in services.items() if not service.get("profiles")}
    assert {"elasticsearch", "api", "crawler", "redis", "worker"} <= default
    assert CLUSTER_SERVICES.isdisjoint(default)
    es = services["elasticsearch"]
    assert es["image"].startswith("docker.elastic.co/elasticsearch/elasticsearch:")
    es_env = _service_env(es)
    assert es_env["discovery.type"] == "single-node"
    assert "xpack.security.enabled" in es_env  # security is a stated choice, not a default
    assert any(p.startswith("127.0.0.1:") for p in es.get("ports", []))  # never published to the world
    assert "/health" in " ".join(services["api"]["healthcheck"]["test"])
    assert services["crawler"]["command"][0].endswith("crawl-loop.sh")


def test_worker_service_scales_and_consumes_the_shared_redis(compose):
    worker = compose["services"]["worker"]
    assert worker["command"] == ["skillsignal", "worker"]
    env = _service_env(worker)
    assert env["SKILLSIGNAL_REDIS_URL"].startswith("redis://redis:")  # the compose network's redis service
    assert env["SKILLSIGNAL_BACKEND"] == "elasticsearch"  # the same store as the api
    # --scale worker=N: nothing that only one container can hold
    assert "container_name" not in worker and "ports" not in worker
    assert worker["healthcheck"] == {"disable": True}


def test_every_service_that_needs_elasticsearch_waits_for_it_healthy(compose):
    services = compose["services"]
    assert "curl" in " ".join(services["elasticsearch"]["healthcheck"]["test"])
    for name in ("api", "crawler", "worker", *CLUSTER_APP_SERVICES):
        deps = services[name]["depends_on"]
        if name not in CLUSTER_APP_SERVICES:
            assert deps["elasticsearch"]["condition"] == "service_healthy", name
        for dep, cond in deps.items():
            assert dep in services
            if cond["condition"] == "service_healthy":
                hc = services[dep].get("healthcheck", {})
                assert hc.get("test") and not hc.get("disable"), f"{name} waits for {dep}, which has no health check"


def test_app_services_point_at_the_elasticsearch_service(compose, env_example):
    services = compose["services"]
    es_port = 9200
    for name in ("api", "crawler"):
        env = _service_env(services[name])
        assert env["SKILLSIGNAL_BACKEND"] == "elasticsearch"
        url = env["SKILLSIGNAL_SEARCH_URL"]
        m = re.fullmatch(r"http://(?:[^@/]+@)?([a-z0-9_-]+):(\d+)", url)
        assert m and m.group(1) in services and int(m.group(2)) == es_port, url
        # the resolved environment is a valid Settings object
        s = _settings_from(env, env_example)
        assert s.backend == "elasticsearch" and str(s.data_dir) == "/data"
        assert s.search_index == env_example["SKILLSIGNAL_SEARCH_INDEX"]


CLUSTER_NODES = ("es01", "es02", "es03")
CLUSTER_APP_SERVICES = ("api-cluster", "crawler-cluster", "worker-cluster")
CLUSTER_SERVICES = {*CLUSTER_NODES, *CLUSTER_APP_SERVICES}


def test_cluster_profile_is_a_three_node_cluster_the_app_points_at(compose, env_example):
    services = compose["services"]
    assert {n for n, s in services.items() if "cluster" in (s.get("profiles") or [])} == CLUSTER_SERVICES
    envs = {n: _service_env(services[n]) for n in CLUSTER_NODES}
    for name, env in envs.items():
        assert env["node.name"] == name and env["cluster.name"] == "skillsignal"
        assert "discovery.type" not in env  # not single-node
        assert sorted(env["cluster.initial_master_nodes"].split(",")) == list(CLUSTER_NODES)
        assert sorted(env["discovery.seed_hosts"].split(",")) == sorted(set(CLUSTER_NODES) - {name})
        assert "curl" in " ".join(services[name]["healthcheck"]["test"])
        assert services[name]["image"] == services["elasticsearch"]["image"]
        assert all(p.startswith("127.0.0.1:") for p in services[name].get("ports", []))
    data_volumes = [v.split(":")[0] for n in CLUSTER_NODES for v in services[n]["volumes"]]
    assert len(set(data_volumes)) == 3  # one data path per node

    for name, plain in zip(CLUSTER_APP_SERVICES, ("api", "crawler", "worker"), strict=True):
        app = services[name]
        assert app["image"] == services[plain]["image"] and app["command"] == services[plain]["command"]
        deps = {dep: c["condition"] for dep, c in app["depends_on"].items()}
        assert {dep: deps[dep] for dep in CLUSTER_NODES} == dict.fromkeys(CLUSTER_NODES, "service_healthy")
        assert "elasticsearch" not in deps  # the single node stays off
        s = _settings_from(_service_env(app), env_example)
        from storage.search import cluster_options, split_hosts

        hosts, _ = split_hosts(s.search_url)
        assert [re.fullmatch(r"http://([a-z0-9]+):9200", h).group(1) for h in hosts] == list(CLUSTER_NODES)
        plan = cluster_options(s)["plan"]
        assert s.search_nodes == 3 and plan.replicas == 1 and s.search_index_period == "year"
        # one Redis database of their own: never the default services' queues
        assert s.redis_url == "redis://redis:6379/1"
        assert s.crawl_redis_url == ("redis://redis:6379/1" if name == "crawler-cluster" else None)
        assert "appdata-cluster:/data" in app["volumes"]
    assert services["api-cluster"]["build"] == services["api"]["build"]


def test_api_key_must_be_given(compose):
    env = _service_env(compose["services"]["api"])
    with pytest.raises(AssertionError, match="SKILLSIGNAL_API_KEY"):
        _interpolate(env["SKILLSIGNAL_API_KEY"], {})


def test_volumes_are_declared_and_used(compose):
    declared = set(compose.get("volumes") or {})
    used = set()
    for name, service in compose["services"].items():
        for vol in service.get("volumes", []):
            src = vol.split(":")[0] if isinstance(vol, str) else vol["source"]
            if not src.startswith((".", "/")):
                assert src in declared, f"{name} uses undeclared volume {src}"
                used.add(src)
    assert used == declared
    assert any(v.endswith(":/usr/share/elasticsearch/data") for v in compose["services"]["elasticsearch"]["volumes"])
    assert "appdata:/data" in compose["services"]["api"]["volumes"]
    assert "appdata:/data" in compose["services"]["crawler"]["volumes"]


def test_build_context_and_dockerfile_exist(compose):
    build = compose["services"]["api"]["build"]
    context = (COMPOSE.parent / build["context"]).resolve()
    assert context == ROOT and (context / build["dockerfile"]).is_file()
    assert compose["services"]["crawler"]["image"] == compose["services"]["api"]["image"]
    assert (DOCKER / "Dockerfile.dockerignore").is_file()
    ignored = (DOCKER / "Dockerfile.dockerignore").read_text().split()
    assert {".venv", "data", "node_modules"} <= set(ignored)


# -- variables -------------------------------------------------------------------------------------
def _referenced_variables() -> dict[str, set[str]]:
    """Variable names each docker file references (interpolations, ENV/ARG, shell expansions)."""
    out: dict[str, set[str]] = {}
    for path in [COMPOSE, DOCKERFILE, LOOP, DOCKER / "README.md", DOCKER / "scheduler" / "crontab"]:
        text = path.read_text(encoding="utf-8")
        names = {m.group(1) or m.group(4) for m in _VAR.finditer(text)}
        names |= set(re.findall(r"\b(SKILLSIGNAL_[A-Z0-9_]+)\b", text))
        out[path.name] = names
    env = yaml.safe_load(COMPOSE.read_text())
    for service in env["services"].values():
        out.setdefault("compose environment", set()).update(_service_env(service))
    return out


def test_every_skillsignal_variable_is_a_settings_field():
    fields = {f"SKILLSIGNAL_{name.upper()}" for name in Settings.model_fields}
    for where, names in _referenced_variables().items():
        unknown = {n for n in names if n.startswith("SKILLSIGNAL_")} - fields
        assert not unknown, f"{where} references {sorted(unknown)}, which Settings does not have"


def test_every_other_variable_is_documented_in_env_example(env_example):
    shell_locals = {
        "n",
        "m",
        "interval",
        "started",
        "status",
        "elapsed",
        "wait_for",
        "TORCH_VERSION",
        "TORCH_INDEX_URL",
        "WHEEL_DIR",
        "ELASTIC_PASSWORD",
    }
    compose_text = COMPOSE.read_text()
    for m in _VAR.finditer(compose_text):
        name = m.group(1) or m.group(4)
        assert name in env_example, f"docker-compose.yml uses ${{{name}}}, missing from .env.example"
    for name in _referenced_variables()["crawl-loop.sh"] - shell_locals:
        assert name in env_example or name.startswith("SKILLSIGNAL_") or name == "CRAWL_ONCE", name
    for key in env_example:
        assert key in compose_text or key.startswith("SKILLSIGNAL_"), f".env.example sets unused {key}"


# -- Dockerfile --------------------------------------------------------------------------------------
def test_dockerfile_runtime_stage():
    ins = _instructions()
    froms = [rest for op, rest in ins if op == "FROM"]
    assert froms[-1].split()[0] == "python:3.11-slim"
    final = ins[max(i for i, (op, _) in enumerate(ins) if op == "FROM") :]
    users = [rest for op, rest in final if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    last_user = max(i for i, (op, _) in enumerate(final) if op == "USER")
    assert not any(op == "RUN" for op, _ in final[last_user:]), "RUN after USER would need root"
    health = [rest for op, rest in final if op == "HEALTHCHECK"]
    assert len(health) == 1 and "/health" in health[0]
    cmd = [rest for op, rest in final if op in ("CMD", "ENTRYPOINT")]
    assert cmd and shlex.split(cmd[-1].strip("[]").replace(",", " "))[0] == "skillsignal"
    expose = [rest for op, rest in final if op == "EXPOSE"]
    assert expose == ["8000"]
    envs = " ".join(rest for op, rest in final if op == "ENV")
    assert "SKILLSIGNAL_DATA_DIR=/data" in envs and "SKILLSIGNAL_API_HOST=0.0.0.0" in envs


def test_torch_is_installed_cpu_only_before_the_project():
    runs = [rest for op, rest in _instructions() if op == "RUN"]
    torch_runs = [r for r in runs if "torch" in r]
    assert torch_runs
    for run in torch_runs:
        for cmd in re.split(r"&&|;|\bthen\b|\belse\b", run):
            if "pip install" in cmd and "torch" in cmd:
                assert "--index-url" in cmd or "--find-links" in cmd, f"plain torch install: {cmd.strip()}"
    assert "${TORCH_INDEX_URL}" in " ".join(torch_runs)
    arg = {rest.split("=")[0]: rest.split("=", 1)[1] for op, rest in _instructions() if op == "ARG" and "=" in rest}
    assert arg["TORCH_INDEX_URL"].startswith("https://download.pytorch.org/whl/cpu")
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'"torch=={arg["TORCH_VERSION"]}"' in pyproject  # the image installs the version the project pins
    project_install = next(i for i, r in enumerate(runs) if "pip install -e ." in r)
    assert project_install > runs.index(torch_runs[0])


def test_every_copied_path_exists_in_the_build_context():
    ins = _instructions()
    for op, rest in ins:
        if op == "COPY" and "--from=" not in rest:
            *sources, _dest = rest.split()
            for src in sources:
                src = src.replace("${WHEEL_DIR}", "docker/wheels")
                assert (ROOT / src).exists(), src


# -- scheduler ---------------------------------------------------------------------------------------
def _stub_path(tmp_path: Path, exit_code: int = 0) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "skillsignal"
    stub.write_text(f'#!/bin/sh\necho "$@" >> "{tmp_path}/calls"\nexit {exit_code}\n')
    stub.chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
def test_crawl_loop_runs_the_cli_with_the_urls_and_budget(tmp_path):
    env = {
        **_stub_path(tmp_path),
        "CRAWL_URLS": "https://a.example/jobs https://b.example/sitemap.xml",
        "CRAWL_MAX_REQUESTS": "50",
        "CRAWL_ONCE": "1",
    }
    done = subprocess.run(["sh", str(LOOP)], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "calls").read_text().split() == [
        "crawl",
        "--max-requests",
        "50",
        "https://a.example/jobs",
        "https://b.example/sitemap.xml",
    ]


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
def test_crawl_loop_keeps_going_after_a_failed_run_and_rejects_bad_settings(tmp_path):
    env = {**_stub_path(tmp_path, exit_code=3), "CRAWL_URLS": "https://a.example/", "CRAWL_INTERVAL": "1s"}
    proc = subprocess.Popen(["sh", str(LOOP)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        import time

        deadline = time.time() + 15
        while time.time() < deadline:
            calls = (tmp_path / "calls").read_text().splitlines() if (tmp_path / "calls").exists() else []
            if len(calls) >= 2:
                break
            time.sleep(0.2)
        assert len(calls) >= 2, "the loop stopped after a failed crawl"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    for bad in ({"CRAWL_URLS": ""}, {"CRAWL_URLS": "https://a.example/", "CRAWL_INTERVAL": "soon"}):
        done = subprocess.run(
            ["sh", str(LOOP)], env={"PATH": os.environ["PATH"], **bad}, capture_output=True, text=True, timeout=10
        )
        assert done.returncode == 2 and "crawl-loop:" in done.stderr


def test_crontab_entries_are_well_formed():
    text = (DOCKER / "scheduler" / "crontab").read_text()
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert lines
    for line in lines:
        fields = line.split(None, 5)
        assert len(fields) == 6
        for f in fields[:5]:
            assert re.fullmatch(r"[\d*/,\-]+", f), f
        assert "CRAWL_ONCE=1" in fields[5] and "crawler" in fields[5]


# -- distributed crawling --------------------------------------------------------------------------
def _settings_from(env: dict[str, str], env_example: dict[str, str]) -> Settings:
    """The Settings a container with ``env`` (interpolated from .env.example) would read."""
    resolved = {k: _interpolate(v, env_example) for k, v in env.items() if k.startswith("SKILLSIGNAL_")}
    mp = pytest.MonkeyPatch()
    for key in [k for k in os.environ if k.startswith("SKILLSIGNAL_")]:
        mp.delenv(key)
    for k, v in resolved.items():
        mp.setenv(k, v)
    try:
        return Settings()
    finally:
        mp.undo()


def test_the_crawler_scales_on_the_redis_service(compose, env_example):
    """``docker compose up --scale crawler=3``: the replicas are interchangeable (no fixed name, no
    published port) and share one crawl through the redis service, which they wait for healthy."""
    services = compose["services"]
    crawler, redis = services["crawler"], services["redis"]
    assert "container_name" not in crawler and not crawler.get("ports"), "a fixed name or port blocks --scale"
    assert crawler["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "redis-cli" in redis["healthcheck"]["test"] and "ping" in redis["healthcheck"]["test"]
    assert "--appendonly" in redis["command"], "the crawl's queue must survive a Redis restart"
    assert not redis.get("ports"), "Redis holds pickled requests: only the compose network may reach it"
    assert any(v.endswith(":/data") and not v.startswith((".", "/")) for v in redis["volumes"])
    s = _settings_from(_service_env(crawler), env_example)
    m = re.fullmatch(r"redis://([a-z0-9_-]+):(\d+)/\d+", s.crawl_redis_url or "")
    assert m and m.group(1) == "redis" and m.group(2) == "6379", s.crawl_redis_url
    assert s.crawl_idle_close > 0 and s.crawl_worker_ttl > s.crawl_idle_close / 2
    # set empty, the crawlers crawl alone
    alone = _settings_from(_service_env(crawler), {**env_example, "SKILLSIGNAL_CRAWL_REDIS_URL": ""})
    assert alone.crawl_redis_url is None


def test_readme_shows_how_to_run_n_crawlers_on_one_redis():
    text = (DOCKER / "README.md").read_text(encoding="utf-8")
    assert "--scale crawler=" in text and "SKILLSIGNAL_CRAWL_REDIS_URL" in text
