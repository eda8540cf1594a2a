# semid — two commands on a fresh machine:
#   make demo   installs what is missing, builds in release, runs the main job on the bundled dataset
#   make test   runs the test suite (Swift, then the Python package in a venv it creates once)
SHELL := /bin/bash
APT_PACKAGES := libopenblas-dev libzstd-dev libsqlite3-dev pkg-config
DATA := Datasets/amazon-beauty
OUT ?= out
SEMID := .build/release/semid
# The index of the bundled dataset with a trained model (built by `make model`).
SHIPPED := Codebooks/beauty.semid
# Users whose recommendations the demo shows (their test-split histories).
DEMO_USERS := 3 42 2024
# The index of the demo and of the shipped model (the same IDs on every machine).
INDEX_FLAGS := --levels 3 --codebook-size 256 --collisions suffix --seed 7
# Training settings of the shipped model (see docs/model.md).
TRAIN_FLAGS := --sequences $(DATA)/sequences.tsv --embeddings $(DATA)/embeddings.npy --seed 1 --time-limit 60

.PHONY: demo test python-test browser-test crash-test crash-test-long fuzz fuzz-build fuzz-smoke fuzz-run deps browser-deps release debug clean bench-faiss bench-torch bench-decode bench-scale bench-portable bench-python bench-spark bench-report model compare

## Install the system libraries semid links (OpenBLAS, zstd, SQLite) when they are missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
	  $$sudo apt-get update -qq && $$sudo apt-get install -y -qq $$missing; \
	fi

## Install headless Chromium and Python 3 (the browser test of `semid report`) when they are missing.
browser-deps:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v python3 >/dev/null 2>&1 || missing="$$missing python3"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
	  $$sudo apt-get update -qq && $$sudo apt-get install -y -qq $$missing; \
	fi

release: deps
	swift build -c release --product semid

debug: deps
	swift build

## Build an index of Amazon Beauty (12,101 items) and show its report; check on this machine that
## the index shipped in Codebooks/ re-encodes to its stored IDs, then recommend and evaluate with the
## model shipped in it (or train one on the fresh index with `make demo TRAIN=1`, about 10 minutes).
demo: release
	@mkdir -p $(OUT)
	$(SEMID) --version
	$(SEMID) build --embeddings $(DATA)/embeddings.npy --items $(DATA)/items.jsonl $(INDEX_FLAGS) \
	    --out $(OUT)/beauty.semid --force
	$(SEMID) export $(OUT)/beauty.semid --format lcrec --out $(OUT)/beauty.index.json --force
	@if [ "$(TRAIN)" = 1 ]; then \
	  echo "== training the next-item model on $(OUT)/beauty.semid (TRAIN=1)"; \
	  $(SEMID) train $(OUT)/beauty.semid $(TRAIN_FLAGS) || exit 1; \
	  rm -rf $(OUT)/beauty-model.semid && cp -r $(OUT)/beauty.semid $(OUT)/beauty-model.semid; \
	else \
	  echo "== the index and model shipped in $(SHIPPED): re-encoding its items here (make demo TRAIN=1 trains a model instead)"; \
	  $(SEMID) verify $(SHIPPED) --embeddings $(DATA)/embeddings.npy || exit 1; \
	  if cmp -s $(OUT)/beauty.semid/ids-00000.zst $(SHIPPED)/ids-00000.zst; then \
	    echo "the fresh build above has the shipped index's IDs, byte for byte"; \
	  else \
	    echo "note: the fresh build above differs from the shipped index (it was built by another semid version)"; \
	  fi; \
	  rm -rf $(OUT)/beauty-model.semid && cp -r $(SHIPPED) $(OUT)/beauty-model.semid; \
	fi
	@for u in $(DEMO_USERS); do \
	  h=$$(awk -F'\t' -v u=$$u '$$1 == u { n = split($$2, a, " "); s = a[1]; for (i = 2; i < n; i++) s = s " " a[i]; print s }' $(DATA)/sequences.tsv); \
	  echo "== user $$u: recommendations after their history (test split)"; \
	  $(SEMID) recommend $(OUT)/beauty-model.semid --history "$$h" --top 5 --beam 20 --exclude-history --repeat 50 || exit 1; \
	done
	@echo "== test split, full ranking by generation (beam 20)"
	$(SEMID) eval $(OUT)/beauty-model.semid --sequences $(DATA)/sequences.tsv --split test --beam 20
	$(SEMID) eval $(OUT)/beauty-model.semid --sequences $(DATA)/sequences.tsv --split test --beam 20 --exclude-history
	@echo "== HTML report of the demo's index and model: code usage, collisions, reconstruction error, training curves"
	$(SEMID) report $(OUT)/beauty-model.semid --embeddings $(DATA)/embeddings.npy --out $(OUT)/beauty-report.html --force --quiet
	@echo "report: $(abspath $(OUT)/beauty-report.html) (one self-contained file: open it in any browser)"

## Train the model shipped in Codebooks/ (index of `make demo` + model); about 10 minutes.
model: release
	@mkdir -p $(OUT)
	$(SEMID) build --embeddings $(DATA)/embeddings.npy --items $(DATA)/items.jsonl $(INDEX_FLAGS) \
	    --out $(OUT)/beauty-model.semid --force
	$(SEMID) train $(OUT)/beauty-model.semid $(TRAIN_FLAGS)
	rm -rf $(SHIPPED) && mkdir -p Codebooks && cp -r $(OUT)/beauty-model.semid $(SHIPPED)

## Tests run optimised (numerics in debug builds are 10-30x slower); @testable needs -enable-testing,
## so they build in their own folder and do not invalidate the release build of `make demo`.
TEST_FLAGS := -c release -Xswiftc -enable-testing --scratch-path .build-tests
test: deps browser-deps
	python3 scripts/check-layering.py
	swift build $(TEST_FLAGS) --build-tests
	swift test $(TEST_FLAGS) --skip-build
	@$(MAKE) --no-print-directory crash-test
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory browser-test
	@$(MAKE) --no-print-directory python-test

## Crash injection (docs/safety.md): `kill -9` at seeded random points of build/add/users/train and
## concurrent writer/reader mixes on a small index; every index left behind must be whole, the old
## version or the new one. `make test` runs the short version; crash-test-long the one in the docs.
CRASH_FLAGS ?= --trials 48 --seed 16
crash-test:
	python3 scripts/crash-injection.py --semid .build-tests/release/semid $(CRASH_FLAGS)
crash-test-long:
	python3 scripts/crash-injection.py --semid .build-tests/release/semid --trials 1000 --seed 16

## Fuzzing (docs/safety.md): the readers of untrusted input as libFuzzer targets (Sources/SemidFuzzing),
## built with -sanitize=fuzzer in $(FUZZ_BUILD). `make fuzz` runs each target FUZZ_TIME seconds from
## the seed corpora in Fuzz/corpus (new inputs go to $(OUT)/fuzz/corpus, crashes to
## $(OUT)/fuzz/artifacts; Swift's own backtracer is off so libFuzzer sees traps and saves the
## input); `make test` runs each for FUZZ_SMOKE_RUNS inputs from a fixed seed (the same run every time).
FUZZ_BUILD := .build-fuzz
FUZZ_BINARY := $(FUZZ_BUILD)/release/semid-fuzz
FUZZ_TARGETS := npy items sequences manifest shard catalog
FUZZ_TIME ?= 600
FUZZ_SMOKE_RUNS ?= 20000
FUZZ_FLAGS ?= -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -max_len=65536
fuzz-build: deps
	swift build -c release --product semid-fuzz --scratch-path $(FUZZ_BUILD) \
	    -Xswiftc -sanitize=fuzzer -Xswiftc -DSEMID_LIBFUZZER -Xswiftc -use-ld=lld
fuzz: fuzz-build
	@$(MAKE) --no-print-directory fuzz-run FUZZ_LIMIT="-max_total_time=$(FUZZ_TIME)" FUZZ_WHAT="for $(FUZZ_TIME) s"
fuzz-smoke: fuzz-build
	@$(MAKE) --no-print-directory fuzz-run FUZZ_LIMIT="-runs=$(FUZZ_SMOKE_RUNS) -seed=1" FUZZ_WHAT="for $(FUZZ_SMOKE_RUNS) inputs, seed 1"
fuzz-run:
	@mkdir -p $(OUT)/fuzz/artifacts
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(OUT)/fuzz/corpus/$$t; \
	  echo "== fuzzing $$t $(FUZZ_WHAT)"; \
	  SWIFT_BACKTRACE=enable=no SEMID_FUZZ_TARGET=$$t $(FUZZ_BINARY) $(OUT)/fuzz/corpus/$$t Fuzz/corpus/$$t $$(test -d Fuzz/regressions/$$t && echo Fuzz/regressions/$$t) $(FUZZ_FLAGS) \
	      $(FUZZ_LIMIT) -print_final_stats=1 -artifact_prefix=$(OUT)/fuzz/artifacts/$$t- \
	      2> $(OUT)/fuzz/$$t.log || { tail -40 $(OUT)/fuzz/$$t.log; echo "fuzz target $$t failed: see $(OUT)/fuzz/$$t.log"; exit 1; }; \
	  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' $(OUT)/fuzz/$$t.log | tr '\n' ' '; echo; \
	done

## `semid report` rendered in headless Chromium (Tests/Browser/report_in_chromium.py): no console
## errors, every plot present and non-empty, screenshots in .build-tests/browser. Needs the test build.
browser-test: browser-deps
	python3 Tests/Browser/report_in_chromium.py --semid "$$(swift build $(TEST_FLAGS) --show-bin-path)/semid" --out .build-tests/browser

## The Python package (python/) in a venv: created at $(VENV) on first use and reused (torch and
## transformers are large); `pip install ./python` links libsemidc from the test build's modules.
VENV ?= .venv
PYTHON_REQUIREMENTS := python/requirements-test.txt
$(VENV)/.semid-requirements: $(PYTHON_REQUIREMENTS)
	@test -x $(VENV)/bin/python || python3 -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "python3 -m venv failed: install Python's venv module (Debian: apt-get install python3-venv)"; exit 1; }
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check -r $(PYTHON_REQUIREMENTS)
	@touch $@

python-test: deps $(VENV)/.semid-requirements
	SEMID_SWIFT_BUILD_ARGS="-Xswiftc -enable-testing --scratch-path $(CURDIR)/.build-tests" \
	    $(VENV)/bin/python -m pip install -q --disable-pip-version-check --no-build-isolation ./python
	cd python && SEMID_CLI=$(CURDIR)/.build-tests/release/semid $(abspath $(VENV))/bin/python -m pytest -q

## allowed_next and constrained generate against Hugging Face's PrefixConstrainedLogitsProcessor with
## dict tries (docs/python.md); builds a 1M-item index in $(OUT)/bench-python on first use.
bench-python: deps $(VENV)/.semid-requirements
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check --no-build-isolation ./python
	$(VENV)/bin/python python/bench/bench_constraint.py --bundled $(SHIPPED) --work $(OUT)/bench-python

## python -m semid.spark build in Spark local[2] against `semid build` on the same seeded 100k x 256
## catalog (.npy and Parquet made once in $(OUT)/bench-spark): stage times, the ratio, identical IDs.
bench-spark: release $(VENV)/.semid-requirements
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check --no-build-isolation ./python
	$(VENV)/bin/python python/bench/bench_spark.py --semid $(SEMID) --work $(OUT)/bench-spark

## Time and size of `semid report`: the bundled index, a comparison, a 1M-item synthetic index
## (made once in $(OUT)/bench-report; needs python3 with NumPy). Table for docs/benchmarks.md.
bench-report: release
	scripts/bench-report.sh $(SEMID) python3 $(OUT)/bench-report

## The indexing-scheme comparison of docs/benchmarks.md: six ID schemes × with/without user tokens
## × 2 seeds, the same model and budget on each (about 70 minutes on 2 cores).
COMPARE_FLAGS ?= --epochs 12 --patience 3 --validation-users 3000 --seeds 1,2
compare: release
	$(SEMID) compare --embeddings $(DATA)/embeddings.npy --items $(DATA)/items.jsonl \
	    --sequences $(DATA)/sequences.tsv $(COMPARE_FLAGS) --out $(OUT)/compare

## Decoding cost on the Beauty index and synthetic 1M / 10M-item indexes (needs `make demo` first).
## Peak memory and time of `semid build` (3 levels of 1024, 256, 256 codes + suffix) on synthetic
## 1M, 4M, 8M × 256 and 1M × 768 float32 catalogs written by chunks (8 GiB of disk at 8M, deleted
## after each run), then the encoder's GFLOP/s against sgemm; tables for docs/scale.md. Needs NumPy.
bench-scale: release
	scripts/bench-scale.sh $(SEMID) $(OUT)/bench-scale

bench-decode: release
	$(SEMID) bench decode $(OUT)/beauty.semid --synthetic 1000000,10000000

## IDs under every OpenBLAS kernel this CPU runs and several thread counts (table for docs/reproducibility.md).
bench-portable: release
	scripts/bench-portable.sh $(SEMID)

## Side-by-side with faiss (needs network access to PyPI for faiss-cpu on first use).
bench-faiss: release
	../shared/bench/rq_vs_faiss.sh --npy $(DATA)/embeddings.npy --levels 4 --k 256 -- \
	    $(SEMID) build --embeddings {npy} --levels 4 --codebook-size 256 --collisions none --out {out}
	../shared/bench/rq_vs_faiss.sh --levels 4 --k 256 -- \
	    $(SEMID) build --embeddings {npy} --levels 4 --codebook-size 256 --collisions none --out {out}

## RQ-VAE epoch time and reconstruction against the same architecture in PyTorch (CPU).
bench-torch: release
	../shared/bench/rqvae_vs_torch.sh --npy $(DATA)/embeddings.npy --levels 4 --epochs 20 -- \
	    $(SEMID) build --method rq-vae --embeddings {npy} --levels 4 --codebook-size 256 \
	    --epochs 20 --batch 1024 --collisions none --seed 1 --out {out}

clean:
	rm -rf .build .build-tests $(FUZZ_BUILD) $(OUT) python/build
