#!/usr/bin/env python
"""Extraction speed, memory and quality per embedding configuration, side by side.

Every configuration runs in its own process (so peak RSS and load time are its own) and gives:
load time (taxonomy, spaCy/jieba, model, taxonomy vectors), postings/s end to end over
``extract_many`` (cleaning, sections, skills, new terms, level, occupation, competencies) on the
first ``--limit`` postings, peak RSS, texts the model ran / served from the caches, the gold
scores of ``../shared/eval/score.py`` on ``labeled-dev`` and ``labeled-dev-2`` (skill F1,
occupation accuracy, level accuracy), and how far its competencies and occupations are from
the full-precision reference (``torch-fp32``: sentence-transformers on PyTorch, float32) on
the same postings; and each configuration's figures on ``nlp/eval``'s competency gold
(``python -m nlp.eval.score_competencies --run`` under its settings).

    python benchmarks/bench_extract.py                      # plain, default, default-1proc, default-warm
    python benchmarks/bench_extract.py --configs all        # every configuration below
    python benchmarks/bench_extract.py --configs default,torch-fp32 --limit 500

Configurations (``--configs``, comma list):
    plain          no embedding model, one process
    plain-auto     no embedding model, worker processes as `skillsignal extract` picks them
    default        what `skillsignal extract` does with the default settings: ONNX Runtime fp32, texts
                   of one token count run together (no padding), only the texts whose vector can
                   change the extraction embedded, worker processes by Settings.extract_workers
                   (default 1; 0, auto: one per core for >= 500 postings); cold vector cache
    default-warm   the same, second pass over the same postings: vectors read from the disk cache
                   (the one the cold "default" run of the same invocation filled, else its own first pass)
    default-1proc  the default model in one process, 2 threads
    onnx-1thread   one process, the model on one thread
    one-per-run    one process, 2 threads, one text per model run (no grouping by token count)
    embed-all      one process, 2 threads, without the selection: every occupation close call by the
                   former bound (every posting within 2 x sqrt(n - 1) of the lead) and every unknown
                   Latin term embedded
    default-2proc  2 worker processes x 1 thread, whatever the input size
    int8           ONNX Runtime dynamic int8 (one scale per text), 2 threads
    int8-2proc     the same in 2 worker processes x 1 thread
    torch-fp32     sentence-transformers on PyTorch, float32, batches of 32 (the reference)
    torch-bf16     PyTorch bfloat16 (what 'auto' picked on CPUs with native bf16 before)

The postings file is read at run time and never copied; where it is absent the script says so
and exits 0. Load average is printed before and after: other work on the machine slows every
figure; compare configurations measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
DEFAULT_POSTINGS = SHARED / "data" / "postings-dev.jsonl"
EVAL_DIR = SHARED / "eval"
EVAL_SETS = ("labeled-dev", "labeled-dev-2")
REFERENCE = "torch-fp32"
BATCH = 256

AUTO = 0  # worker processes as nlp.parallel.worker_count picks them for the input
#: name -> (use embeddings, SKILLSIGNAL_* overrides, warm pass, worker processes (0: auto))
CONFIGS: dict[str, tuple[bool, dict[str, str], bool, int]] = {
    "plain": (False, {}, False, 1),
    "plain-auto": (False, {}, False, AUTO),
    "default": (True, {}, False, AUTO),
    "default-warm": (True, {}, True, AUTO),
    "default-1proc": (True, {}, False, 1),
    "onnx-1thread": (True, {"EMBEDDING_THREADS": "1"}, False, 1),
    "one-per-run": (True, {}, False, 1),
    "embed-all": (True, {}, False, 1),
    "default-2proc": (True, {}, False, 2),
    "int8": (True, {"EMBEDDING_PRECISION": "int8"}, False, 1),
    "int8-2proc": (True, {"EMBEDDING_PRECISION": "int8"}, False, 2),
    "torch-fp32": (True, {"EMBEDDING_BACKEND": "torch", "EMBEDDING_PRECISION": "float32"}, False, 1),
    "torch-bf16": (True, {"EMBEDDING_BACKEND": "torch", "EMBEDDING_PRECISION": "bfloat16"}, False, 1),
}


def read_postings(path: Path, limit: int | None):
    from skillsignal.core.records import record_to_posting

    postings = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if limit is not None and len(postings) >= limit:
                break
            try:
                postings.append(record_to_posting(json.loads(line)))
            except Exception:  # a bad record is skipped, as the importer would
                continue
    return postings


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def rss_now_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


def pss_mb(pid: int) -> float:
    """Proportional set size: the process's private memory plus its share of pages it shares
    (a forked worker shares the parent's model weights)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# ------------------------------------------------------------------------------ worker


def patch(name: str) -> None:
    """Configurations that differ from the default in code, not in settings."""
    if name == "embed-all":
        import math

        from nlp.embeddings.selection import LatinFormIndex
        from nlp.occupation import OccupationScorer

        def former_swing(self, decision):  # the bound before the selection, for every posting
            n = len(self.taxonomy.occupations) + len(self.lookalikes)
            swing = 2.0 * float(self.weights.get("embedding", 0.0)) * math.sqrt(max(n - 1, 0))
            floor = float(self.rules["min_evidence"]) + swing / 2
            return math.inf if max(decision.evidence.values(), default=0.0) <= floor else swing

        OccupationScorer.embedding_swing = former_swing
        LatinFormIndex._can_agree = lambda self, term: True


def worker(name: str, postings_path: Path, limit: int, out_dir: Path) -> None:
    from nlp.batch import result_line
    from nlp.parallel import ParallelExtractor, worker_count
    from skillsignal.core.config import Settings

    use_embeddings, _, warm, workers = CONFIGS[name]
    patch(name)
    postings = read_postings(postings_path, limit)
    if workers == AUTO:
        workers = worker_count(Settings(), len(postings))
    started = time.perf_counter()
    emb = None
    if workers > 1:  # the vector cache is chosen before the workers fork
        from nlp.extractor import Extractor

        settings = Settings().model_copy(update={"embedding_threads": 1})
        base = Extractor.from_settings(settings, use_embeddings=use_embeddings)
        emb = base.embedder
        if emb is not None:
            emb.use_disk_cache(out_dir / "vectors")
        extractor = ParallelExtractor(base, workers)
    else:
        extractor = ParallelExtractor.from_settings(Settings(), 1, use_embeddings=use_embeddings)
        emb = extractor.embedder
        if emb is not None:  # a fresh vector cache: a cold run measures the model, not old runs
            emb.use_disk_cache(out_dir / "vectors")
    if emb is not None and name == "one-per-run":
        emb._model.bucket = 1
    load_s = time.perf_counter() - started

    def run(batch_postings):
        results, errors = [], 0
        for i in range(0, len(batch_postings), BATCH):
            for result in extractor.extract_many(batch_postings[i : i + BATCH]):
                errors += isinstance(result, Exception)
                results.append(result)
        return results, errors

    filled = out_dir.parent / "default" / "vectors"
    if warm and emb is not None and filled.is_dir():  # the cold "default" run of this benchmark filled it
        shutil.copytree(filled, out_dir / "vectors", dirs_exist_ok=True)
        emb.use_disk_cache(out_dir / "vectors")
    elif warm and emb is not None:
        run(postings)  # fills the disk cache
    if warm and emb is not None:
        emb.clear_cache()
        emb.cache_hits = emb.disk_hits = emb.encoded_texts = emb.model_calls = 0
        extractor.worker_counters = dict.fromkeys(extractor.worker_counters, 0)
    children = [p.pid for p in extractor._pool._pool] if extractor._pool is not None else []
    cpu_before = sum(cpu_s(pid) for pid in children)
    t0, c0 = time.perf_counter(), time.process_time()
    results, errors = run(postings)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0 + sum(cpu_s(pid) for pid in children) - cpu_before
    memory = {
        "own_peak_rss_mb": round(rss_mb()),
        "own_pss_mb": round(pss_mb(os.getpid())),
        "workers_pss_mb": round(sum(pss_mb(pid) for pid in children)),
        "workers_rss_mb": round(sum(rss_now_mb(pid) for pid in children)),
    }
    with (out_dir / "sample.jsonl").open("w", encoding="utf-8") as fh:
        for posting, result in zip(postings, results, strict=False):
            if not isinstance(result, Exception):
                fh.write(json.dumps(result_line(posting, result), ensure_ascii=False) + "\n")
    stats = {
        "config": name,
        "workers": workers,
        "postings": len(postings),
        "errors": errors,
        "load_s": round(load_s, 2),
        "extract_s": round(wall, 2),
        "postings_per_s": round(len(postings) / wall, 1) if wall else None,
        "cpu_per_wall": round(cpu / wall, 2) if wall else None,
        "cpu_ms_per_posting": round(1000 * cpu / len(postings), 1) if postings else None,
        "embedder": extractor.embedder_counters() if emb is not None else {},
        # one process: its peak RSS; workers: the larger of the parent's peak RSS (loading,
        # before the fork) and the memory of the parent and its workers together after the run
        # (the sum of their PSS: each page counted once, shared ones split between sharers)
        "peak_rss_mb": max(memory["own_peak_rss_mb"], memory["own_pss_mb"] + memory["workers_pss_mb"])
        if children
        else memory["own_peak_rss_mb"],
        "memory": memory,
    }
    # gold sets: extraction of the labelled postings (not timed)
    for eval_name in EVAL_SETS:
        src = EVAL_DIR / f"{eval_name}.jsonl"
        if src.exists():
            eval_postings = read_postings(src, None)
            with (out_dir / f"{eval_name}.pred.jsonl").open("w", encoding="utf-8") as fh:
                for posting, result in zip(eval_postings, run(eval_postings)[0], strict=False):
                    line = (
                        {"id": posting.id, "error": str(result)}
                        if isinstance(result, Exception)
                        else result_line(posting, result)
                    )
                    fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    extractor.close()
    (out_dir / "stats.json").write_text(json.dumps(stats, ensure_ascii=False), encoding="utf-8")


# ------------------------------------------------------------------------------ driver


def gold_scores(out_dir: Path) -> dict[str, dict]:
    scores = {}
    for eval_name in EVAL_SETS:
        pred, gold = out_dir / f"{eval_name}.pred.jsonl", EVAL_DIR / f"{eval_name}.gold.jsonl"
        if not (pred.exists() and gold.exists()):
            continue
        proc = subprocess.run(
            [sys.executable, str(EVAL_DIR / "score.py"), str(gold), str(pred), "--json"], capture_output=True, text=True
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode == 0 and lines:
            scores[eval_name] = json.loads(lines[-1])
    return scores


def load_sample(path: Path) -> dict[str, dict]:
    out = {}
    for line in path.open(encoding="utf-8"):
        row = json.loads(line)
        out[row["id"]] = {
            "occupation": (row.get("occupation") or {}).get("code"),
            "competencies": {c["id"] for c in row.get("competencies") or []},
            "top": (row.get("competencies") or [{}])[0].get("id"),
            "skills": {s["id"] for s in row.get("skills") or []},
        }
    return out


def agreement(ref: dict[str, dict], got: dict[str, dict]) -> dict[str, float]:
    """Competencies and occupations of ``got`` against the reference run, over the postings
    both extracted: precision / recall / F1 of the (posting, competency) pairs, share of
    postings with the same first competency, the same competency set, the same occupation."""
    ids = [i for i in ref if i in got]
    tp = sum(len(ref[i]["competencies"] & got[i]["competencies"]) for i in ids)
    n_ref = sum(len(ref[i]["competencies"]) for i in ids)
    n_got = sum(len(got[i]["competencies"]) for i in ids)
    p = tp / n_got if n_got else 1.0
    r = tp / n_ref if n_ref else 1.0
    with_comp = [i for i in ids if ref[i]["competencies"] or got[i]["competencies"]]
    return {
        "comp_p": p,
        "comp_r": r,
        "comp_f1": 2 * p * r / (p + r) if p + r else 0.0,
        "comp_top1": sum(ref[i]["top"] == got[i]["top"] for i in with_comp) / max(1, len(with_comp)),
        "comp_same_set": sum(ref[i]["competencies"] == got[i]["competencies"] for i in ids) / max(1, len(ids)),
        "occupation_same": sum(ref[i]["occupation"] == got[i]["occupation"] for i in ids) / max(1, len(ids)),
        "skills_same": sum(ref[i]["skills"] == got[i]["skills"] for i in ids) / max(1, len(ids)),
        "postings_with_comp": sum(bool(got[i]["competencies"]) for i in ids) / max(1, len(ids)),
    }


def competency_gold_scores(name: str, env: dict[str, str]) -> str | None:
    """``nlp/eval``'s competency scorer run on its gold postings under configuration ``name``'s
    settings (``--run``: the extractor itself), as one line of figures; None without ../shared."""
    if not (ROOT / "nlp" / "eval" / "competency_gold.jsonl").exists() or not DEFAULT_POSTINGS.exists():
        return None
    cmd = [sys.executable, "-m", "nlp.eval.score_competencies", "--run", "--json"]
    if not CONFIGS[name][0]:
        cmd.append("--no-embeddings")
    res = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if res.returncode != 0:
        return f"scorer failed: {res.stderr.strip()[-300:]}"
    fig = json.loads(res.stdout.strip().splitlines()[-1])
    sent = fig["sentence"]
    return (
        f"sentence P {sent['precision']:.3f} / R {sent['recall']:.3f} / F1 {sent['f1']:.3f}, top-1 "
        f"{fig['top1']['accuracy']:.3f}, postings with >= 1 {fig['coverage']['predicted']:.3f}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--postings", type=Path, default=DEFAULT_POSTINGS)
    ap.add_argument("--limit", type=int, default=2000, help="postings to time (default: the first 2000)")
    ap.add_argument(
        "--configs", default="plain,default,default-warm", help="comma list, or 'all': " + ", ".join(CONFIGS)
    )
    ap.add_argument(
        "--reference",
        default=None,
        help=f"configuration the others are compared with (default: {REFERENCE} when it runs, "
        "else 'default', whose competencies and occupations equalled torch-fp32's on 500 dev postings)",
    )
    ap.add_argument(
        "--no-competency-gold",
        action="store_true",
        help="skip scoring each configuration on nlp/eval's competency gold (about 10 s each)",
    )
    ap.add_argument("--json", type=Path, help="also write every figure to this file")
    ap.add_argument("--worker", choices=list(CONFIGS), help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        worker(args.worker, args.postings, args.limit, args.out)
        return 0
    if not args.postings.exists():
        print(f"{args.postings} is absent: nothing to measure (pass --postings FILE)")
        return 0
    names = list(CONFIGS) if args.configs == "all" else [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        ap.error(f"unknown configurations {unknown}; known: {', '.join(CONFIGS)}")

    from nlp.embeddings.embedder import cpu_has_native_bf16

    print(
        f"postings: {args.postings} (first {args.limit}); {os.cpu_count()} CPUs; native bf16: "
        f"{cpu_has_native_bf16()}; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    tmp_root = Path(tempfile.mkdtemp(prefix="bench-extract-"))
    rows: dict[str, dict] = {}
    samples: dict[str, dict] = {}
    try:
        for name in names:
            out = tmp_root / name
            out.mkdir()
            env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
            env.update({f"SKILLSIGNAL_{k}": v for k, v in CONFIGS[name][1].items()})
            cmd = [
                sys.executable,
                __file__,
                "--worker",
                name,
                "--out",
                str(out),
                "--postings",
                str(args.postings),
                "--limit",
                str(args.limit),
            ]
            started = time.perf_counter()
            proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
            if proc.returncode != 0 or not (out / "stats.json").exists():
                print(f"{name}: failed\n{proc.stderr[-3000:]}")
                continue
            row = json.loads((out / "stats.json").read_text(encoding="utf-8"))
            row["gold"] = gold_scores(out)
            row["wall_s"] = round(time.perf_counter() - started, 1)
            row["load_avg_after"] = round(os.getloadavg()[0], 1)
            if not args.no_competency_gold and name != "default-warm":  # warm = default's predictions
                row["competency_scorer"] = competency_gold_scores(name, env)
            samples[name] = load_sample(out / "sample.jsonl")
            rows[name] = row
            print(
                f"  {name}: {row['postings_per_s']} postings/s, load {row['load_s']} s, peak RSS "
                f"{row['peak_rss_mb']} MB ({row['wall_s']} s in all; load average now {row['load_avg_after']})",
                flush=True,
            )
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    if args.reference is None:
        args.reference = REFERENCE if REFERENCE in samples else "default"
    if args.reference in samples:
        for name, sample in samples.items():
            if CONFIGS[name][0]:
                rows[name]["vs_reference"] = agreement(samples[args.reference], sample)
    print_table(rows, args.reference, args.limit)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


def print_table(rows: dict[str, dict], reference: str, limit: int) -> None:
    def gold(r, eval_name, key):
        v = r["gold"].get(eval_name, {}).get(key)
        return f"{v:.3f}" if isinstance(v, (int, float)) else "-"

    def vs(r, key):
        v = r.get("vs_reference", {}).get(key)
        return f"{v:.3f}" if v is not None else "-"

    header = [
        "config",
        "procs",
        f"postings/s ({limit})",
        "CPU ms/posting",
        "load s",
        "peak RSS MB",
        "texts run / from caches (hit rate)",
        "skill F1 dev / dev-2",
        "occupation dev / dev-2",
        "level dev / dev-2",
        f"competencies vs {reference} P / R / top-1",
        "same occupation",
        "postings with competencies",
    ]
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, r in rows.items():
        e = r["embedder"]
        served = e.get("hits", 0) + e.get("disk_hits", 0)
        asked = served + e.get("encoded", 0)
        runs = f"{e.get('encoded', 0)} / {served} ({100 * served / asked:.0f} %)" if asked else "-"
        cells = [
            name,
            f"{r['workers']}",
            f"{r['postings_per_s']}",
            f"{r['cpu_ms_per_posting']}",
            f"{r['load_s']:.1f}",
            f"{r['peak_rss_mb']}",
            runs,
            f"{gold(r, 'labeled-dev', 'skill_f1')} / {gold(r, 'labeled-dev-2', 'skill_f1')}",
            f"{gold(r, 'labeled-dev', 'occupation_accuracy')} / {gold(r, 'labeled-dev-2', 'occupation_accuracy')}",
            f"{gold(r, 'labeled-dev', 'level_accuracy')} / {gold(r, 'labeled-dev-2', 'level_accuracy')}",
            f"{vs(r, 'comp_p')} / {vs(r, 'comp_r')} / {vs(r, 'comp_top1')}",
            vs(r, "occupation_same"),
            vs(r, "postings_with_comp"),
        ]
        print("| " + " | ".join(cells) + " |")
    scored = {n: r["competency_scorer"] for n, r in rows.items() if r.get("competency_scorer")}
    for name, line in scored.items():
        print(f"competency gold (nlp/eval), {name}: {line}")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    raise SystemExit(main())
