# semid — two commands on a fresh machine:
#   make demo   installs what is missing, builds in release, runs the main job on the bundled dataset
#   make test   runs the test suite
SHELL := /bin/bash
APT_PACKAGES := libopenblas-dev libzstd-dev libsqlite3-dev pkg-config
DATA := Datasets/amazon-beauty
OUT ?= out
SEMID := .build/release/semid

.PHONY: demo test deps release debug clean bench-faiss

## Install the system libraries semid links (OpenBLAS, zstd, SQLite) when they are missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
	  $$sudo apt-get update -qq && $$sudo apt-get install -y -qq $$missing; \
	fi

release: deps
	swift build -c release --product semid

debug: deps
	swift build

## Build an index of Amazon Beauty (12,101 items) and inspect it.
demo: release
	@mkdir -p $(OUT)
	$(SEMID) --version
	$(SEMID) build --embeddings $(DATA)/embeddings.npy --items $(DATA)/items.jsonl \
	    --levels 3 --codebook-size 256 --collisions suffix --seed 7 --out $(OUT)/beauty.semid --force
	$(SEMID) export $(OUT)/beauty.semid --format lcrec --out $(OUT)/beauty.index.json --force

## Tests run optimised (numerics in debug builds are 10-30x slower); @testable needs -enable-testing,
## so they build in their own folder and do not invalidate the release build of `make demo`.
TEST_FLAGS := -c release -Xswiftc -enable-testing --scratch-path .build-tests
test: deps
	swift build $(TEST_FLAGS) --build-tests
	swift test $(TEST_FLAGS) --skip-build

## Side-by-side with faiss (needs network access to PyPI for faiss-cpu on first use).
bench-faiss: release
	../shared/bench/rq_vs_faiss.sh --npy $(DATA)/embeddings.npy --levels 4 --k 256 -- \
	    $(SEMID) build --embeddings {npy} --levels 4 --codebook-size 256 --collisions none --out {out}
	../shared/bench/rq_vs_faiss.sh --levels 4 --k 256 -- \
	    $(SEMID) build --embeddings {npy} --levels 4 --codebook-size 256 --collisions none --out {out}

clean:
	rm -rf .build .build-tests $(OUT)
