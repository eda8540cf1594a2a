"""Constraint cost: semid's trie against the Python tries LLM recommenders use today, in one run.

1. allowed next tokens for a batch of 32 x 20 beams (640 prefixes of real items, at every ID
   position), at 12k items (the bundled Beauty index) and 1M items (built here once): semid's
   `Index.allowed_next` and its logits processor, against Hugging Face's
   PrefixConstrainedLogitsProcessor fed by a flat Python dict trie ({prefix: [tokens]}) and by a
   GENRE-style nested-dict trie, and those two tries' lookups alone.
2. Constraint overhead inside `generate` (a tiny randomly initialised GPT-2, batch 32, 20 beams, the
   4 ID tokens): unconstrained against semid's processor, semid's prefix function and the two
   dict tries through PrefixConstrainedLogitsProcessor, at a small vocabulary and at GPT-2's. Each
   constraint's time is also measured around its calls inside `generate` (the end-to-end
   differences are within the noise of a shared machine for semid's processor).

Run with `make bench-python` (under the build lock on shared machines). Prints Markdown tables and
writes them with the raw numbers to WORK/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import LogitsProcessorList, PrefixConstrainedLogitsProcessor

import semid
import semid.hf as shf

BATCH, BEAMS = 32, 20
ROWS = BATCH * BEAMS
PROMPT = 16
WORDS = 1000  # base vocabulary of the small-vocabulary model: w0 ... w999, then EOS, PAD


# ---- the tries practitioners write in Python ---------------------------------------------------

def dict_trie(tokens: np.ndarray) -> dict:
    """A flat Python dict trie: every prefix (a tuple of tokens) -> the list of allowed next tokens."""
    trie: dict = {}
    n, length = tokens.shape
    for t in range(length):
        keys = tokens[:, :t + 1]
        order = np.lexsort(keys[:, ::-1].T)
        sorted_keys = keys[order]
        previous = None
        for row in sorted_keys.tolist():
            prefix, token = tuple(row[:t]), row[t]
            entry = trie.setdefault(prefix, [])
            if (prefix, token) != previous:
                entry.append(token)
                previous = (prefix, token)
    return trie


def nested_trie(tokens: np.ndarray) -> dict:
    """A GENRE-style trie of nested dicts: {token: {token: {...}}}."""
    root: dict = {}
    for row in tokens.tolist():
        node = root
        for token in row:
            node = node.setdefault(token, {})
    return root


def nested_get(root: dict, prefix) -> list:
    node = root
    for token in prefix:
        node = node.get(token)
        if node is None:
            return []
    return list(node.keys())


# ---- timing ------------------------------------------------------------------------------------

def best_of(function, repeats: int, minimum_seconds: float = 0.2) -> float:
    """Seconds per call: the best of `repeats` timed batches of calls."""
    function()
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            function()
        elapsed = time.perf_counter() - start
        if elapsed > minimum_seconds / repeats or calls > 1 << 16:
            break
        calls *= 2
    best = elapsed / calls
    for _ in range(repeats - 1):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def open_or_build_1m(work: Path) -> semid.Index:
    path = work / "synthetic-1m.semid"
    if (path / "manifest.json").is_file():
        return semid.Index.open(path)
    print(f"building a 1M-item index in {path} (once) ...", file=sys.stderr, flush=True)
    rng = np.random.default_rng(1)
    centers = rng.normal(size=(4096, 32)).astype(np.float32)
    embeddings = centers[rng.integers(0, 4096, 1_000_000)] + 0.5 * rng.normal(size=(1_000_000, 32)).astype(np.float32)
    start = time.perf_counter()
    index = semid.build(embeddings, levels=3, codebook_size=256, seed=1, out=path, progress=True)
    print(f"built in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return index


# ---- 1. allowed next ---------------------------------------------------------------------------

def bench_allowed_next(index: semid.Index, name: str, repeats: int) -> list:
    rng = np.random.default_rng(0)
    bases = shf.position_bases(index, WORDS + 2)
    vocabulary = bases[-1] + index.code_sizes[-1]
    tokens = index.codes.astype(np.int64) + np.asarray(bases)
    start = time.perf_counter()
    flat = dict_trie(tokens)
    flat_seconds = time.perf_counter() - start
    start = time.perf_counter()
    nested = nested_trie(tokens)
    nested_seconds = time.perf_counter() - start
    print(f"{name}: Python dict trie built in {flat_seconds:.1f} s, nested dicts in {nested_seconds:.1f} s",
          file=sys.stderr, flush=True)
    rows = []
    for t in range(index.id_length):
        items = rng.integers(0, index.num_items, ROWS)
        prefixes = index.codes[items, :t]
        input_ids = torch.cat([torch.zeros(ROWS, PROMPT, dtype=torch.int64), torch.from_numpy(tokens[items, :t])], 1)
        scores = torch.randn(ROWS, vocabulary)
        processor = shf.SemanticIDLogitsProcessor(index, bases, PROMPT, inplace=True)

        def flat_fn(batch_id, sent):
            return flat.get(tuple(sent[PROMPT:].tolist()), [])

        def nested_fn(batch_id, sent):
            return nested_get(nested, sent[PROMPT:].tolist())

        hf_flat = PrefixConstrainedLogitsProcessor(flat_fn, BEAMS)
        hf_nested = PrefixConstrainedLogitsProcessor(nested_fn, BEAMS)
        # The same answers, before timing anything.
        indptr, codes = index.allowed_next(prefixes)
        for r in (0, ROWS // 2, ROWS - 1):
            expected = (codes[indptr[r]:indptr[r + 1]] + bases[t]).tolist()
            assert flat_fn(0, input_ids[r]) == expected and sorted(nested_fn(0, input_ids[r])) == expected
        assert torch.equal(torch.isfinite(processor(input_ids, scores.clone())),
                           torch.isfinite(hf_flat(input_ids, scores)))
        row = {
            "index": name, "items": index.num_items, "position": t, "vocabulary": vocabulary,
            "allowed_per_beam": float(np.diff(indptr).mean()),
            "semid_allowed_next": best_of(lambda: index.allowed_next(prefixes), repeats),
            "semid_processor": best_of(lambda: processor(input_ids, scores), repeats),
            "dict_lookups": best_of(lambda: [flat_fn(0, input_ids[r]) for r in range(ROWS)], repeats),
            "nested_lookups": best_of(lambda: [nested_fn(0, input_ids[r]) for r in range(ROWS)], repeats),
            "hf_dict_processor": best_of(lambda: hf_flat(input_ids, scores), repeats),
            "hf_nested_processor": best_of(lambda: hf_nested(input_ids, scores), repeats),
        }
        rows.append(row)
        print(f"  position {t}: " + ", ".join(f"{k} {v * 1e6:.0f} us" for k, v in row.items()
                                             if isinstance(v, float) and k != "allowed_per_beam"),
              file=sys.stderr, flush=True)
    return rows


# ---- 2. inside generate ------------------------------------------------------------------------

class Timed:
    """Wraps a logits processor and adds up the time spent in it."""

    def __init__(self, inner):
        self.inner, self.seconds = inner, 0.0

    def __call__(self, input_ids, scores):
        start = time.perf_counter()
        out = self.inner(input_ids, scores)
        self.seconds += time.perf_counter() - start
        return out


def bench_generate(index: semid.Index, words: int, repeats: int) -> dict:
    torch.manual_seed(0)
    eos, pad = words, words + 1
    bases = shf.position_bases(index, words + 2)
    vocabulary = bases[-1] + index.code_sizes[-1]
    config = transformers.GPT2Config(vocab_size=vocabulary, n_positions=64, n_embd=64, n_layer=2, n_head=2,
                                     bos_token_id=eos, eos_token_id=eos, pad_token_id=pad)
    model = transformers.GPT2LMHeadModel(config).eval()
    model.generation_config.eos_token_id = None  # every variant generates exactly the ID's tokens
    prompts = torch.from_numpy(np.random.default_rng(3).integers(0, words, (BATCH, PROMPT)))
    tokens = index.codes.astype(np.int64) + np.asarray(bases)
    flat, nested = dict_trie(tokens), nested_trie(tokens)
    L = index.id_length

    def flat_fn(batch_id, sent):
        return flat.get(tuple(sent[PROMPT:].tolist()), [pad]) or [pad]

    def nested_fn(batch_id, sent):
        return nested_get(nested, sent[PROMPT:].tolist()) or [pad]

    # Every constraint is a logits processor, timed from inside generate. The prefix functions go
    # through PrefixConstrainedLogitsProcessor, which is what `generate(prefix_allowed_tokens_fn=fn)`
    # builds from them.
    variants = {
        "unconstrained": None,
        "semid processor": shf.SemanticIDLogitsProcessor(index, bases, PROMPT),
        "semid processor, inplace=False": shf.SemanticIDLogitsProcessor(index, bases, PROMPT, inplace=False),
        "semid prefix_allowed_tokens_fn": PrefixConstrainedLogitsProcessor(
            shf.prefix_allowed_tokens_fn(index, bases, PROMPT), BEAMS),
        "dict trie (PrefixConstrained)": PrefixConstrainedLogitsProcessor(flat_fn, BEAMS),
        "nested dicts, GENRE (PrefixConstrained)": PrefixConstrainedLogitsProcessor(nested_fn, BEAMS),
    }
    outputs, times, inside = {}, {name: [] for name in variants}, {}

    def run(name, constraint):
        processor = Timed(constraint) if constraint is not None else None
        start = time.perf_counter()
        with torch.no_grad():
            out = model.generate(prompts, attention_mask=torch.ones_like(prompts), num_beams=BEAMS,
                                 num_return_sequences=10, max_new_tokens=L, do_sample=False, pad_token_id=pad,
                                 logits_processor=LogitsProcessorList([processor]) if processor else None)
        elapsed = time.perf_counter() - start
        return out, elapsed, (processor.seconds if processor else None)

    for name, constraint in variants.items():  # warm-up, and the outputs to check
        outputs[name], _, _ = run(name, constraint)
    for _ in range(repeats):  # interleaved, so that load from elsewhere hits every variant alike
        for name, constraint in variants.items():
            _, elapsed, seconds = run(name, constraint)
            times[name].append(elapsed)
            if seconds is not None:
                inside.setdefault(name, []).append(seconds)
    items = shf.decode_items(index, outputs["semid processor"], bases, PROMPT)
    assert np.all(items >= 0), "semid's processor returned a non-item"
    for name in variants:
        if name != "unconstrained":
            assert torch.equal(outputs[name], outputs["semid processor"]), f"{name} generated other sequences"
    invalid = float(np.mean(shf.decode_items(index, outputs["unconstrained"], bases, PROMPT) < 0))
    median = {name: statistics.median(values) for name, values in times.items()}
    return {"words": words, "vocabulary": vocabulary, "median_seconds": median,
            "all_seconds": times, "inside_processor_median_seconds": {k: statistics.median(v) for k, v in inside.items()},
            "unconstrained_invalid_fraction": invalid}


# ---- report ------------------------------------------------------------------------------------

def cpu_name() -> str:
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundled", required=True, help="the bundled 12k-item index (Codebooks/beauty.semid)")
    parser.add_argument("--work", required=True, help="where the 1M-item index and results.json go")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--skip-1m", action="store_true", help="only the 12k-item index")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    environment = {"cpu": cpu_name(), "cores": os.cpu_count(), "torch": torch.__version__,
                   "torch_threads": torch.get_num_threads(), "transformers": transformers.__version__,
                   "semid": semid.__version__, "blas": semid.blas_info(), "python": platform.python_version()}
    print(json.dumps(environment), file=sys.stderr)
    bundled = semid.Index.open(args.bundled)
    indexes = [(bundled, "Beauty 12k")]
    if not args.skip_1m:
        indexes.append((open_or_build_1m(work), "synthetic 1M"))

    allowed = []
    for index, name in indexes:
        allowed += bench_allowed_next(index, name, args.repeats)
    generate = [bench_generate(bundled, words, args.repeats) for words in (WORDS, 50257)]

    lines = [f"CPU: {environment['cpu']} ({environment['cores']} cores, shared machine), torch {environment['torch']} "
             f"({environment['torch_threads']} threads), transformers {environment['transformers']}, "
             f"{environment['blas']}", "",
             "allowed next tokens for 32 x 20 beams (µs per call; HF = PrefixConstrainedLogitsProcessor, which also "
             "builds the [640, V] mask):", "",
             "| index | position | codes per beam | semid allowed_next | semid processor | dict trie lookups | "
             "nested dicts lookups | HF + dict trie | HF + nested dicts | HF + dict / semid processor |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in allowed:
        lines.append(f"| {row['index']} | {row['position']} | {row['allowed_per_beam']:.1f} | "
                     f"{row['semid_allowed_next'] * 1e6:.0f} | {row['semid_processor'] * 1e6:.0f} | "
                     f"{row['dict_lookups'] * 1e6:.0f} | {row['nested_lookups'] * 1e6:.0f} | "
                     f"{row['hf_dict_processor'] * 1e6:.0f} | {row['hf_nested_processor'] * 1e6:.0f} | "
                     f"{row['hf_dict_processor'] / row['semid_processor']:.0f}× |")
    for result in generate:
        base = result["median_seconds"]["unconstrained"]
        # semid's cost: the end-to-end difference, or the time measured inside its processor when
        # the machine's noise makes the difference smaller than that (the larger of the two).
        semid_inside = result["inside_processor_median_seconds"]["semid processor"]
        lines += ["", f"generate, tiny GPT-2 (2 layers, 64-d), vocabulary {result['vocabulary']}, batch 32 x 20 beams, "
                  f"{indexes[0][0].id_length} ID tokens (median of {args.repeats}; unconstrained output: "
                  f"{result['unconstrained_invalid_fraction']:.0%} non-items):", "",
                  "| constraint | generate (ms) | generate − unconstrained (ms) | time in the constraint (ms) | "
                  "constraint / unconstrained generate | constraint / semid processor |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for name, seconds in result["median_seconds"].items():
            inside = result["inside_processor_median_seconds"].get(name)
            cells = ["", "", ""] if inside is None else [f"{inside * 1e3:.2f}", f"{inside / base:.1%}",
                                                         f"{inside / semid_inside:.1f}×"]
            lines.append(f"| {name} | {seconds * 1e3:.1f} | {(seconds - base) * 1e3:+.1f} | " + " | ".join(cells) + " |")
    report = "\n".join(lines)
    print(report)
    (work / "results.json").write_text(json.dumps({"environment": environment, "allowed_next": allowed,
                                                   "generate": generate, "report": report}, indent=2))


if __name__ == "__main__":
    main()
