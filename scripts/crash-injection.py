#!/usr/bin/env python3
"""Crash injection for semid's writers (issue 16, docs/safety.md).

Kills `semid build`, `add`, `users` and `train` with SIGKILL at seeded random points and checks
that the index left behind is whole: byte for byte either the version before the command or the
version an uninterrupted run of the same command writes (the writers are deterministic), that it
passes `semid inspect`, and that no staging directory survives the next read. Then runs mixes of
concurrent writers and readers on one index, kills one writer at a random point, and checks that
every writer that was not killed landed, the killed one landed whole or not at all, and no reader
ever failed.

    scripts/crash-injection.py --semid .build-tests/release/semid --trials 48 --seed 16

`make test` runs 48 trials (`make crash-test`); `make crash-test-long` runs 1000. The same seed
gives the same trials and kill times; what a kill interrupts still depends on the machine's speed.
Standard library only. Exit status 0 when every trial left a whole index, 1 otherwise.
"""

import argparse
import hashlib
import json
import math
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

# The fixture: 400 items (16-d, clustered), 150 users' sequences; a 2-level index of 8 codes.
ITEMS, DIM, USERS = 400, 16, 150
BUILD_FLAGS = ["--levels", "2", "--codebook-size", "8", "--collisions", "suffix", "--seed", "3",
               "--kmeans-warmup", "none"]
TRAIN_FLAGS = ["--epochs", "4", "--dim", "16", "--heads", "2", "--batch", "32", "--seed", "5",
               "--warmup", "2", "--lr", "0.01", "--patience", "0"]
USERS_FLAGS = ["--levels", "2", "--codebook-size", "4", "--seed", "2"]


def write_npy(path, rows, cols, values):
    """A float32 C-order .npy file (format 1.0)."""
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, cols)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(struct.pack("<%df" % len(values), *values))


def make_fixture(directory, rng):
    """Embeddings, item catalog and sequences of the base index, and three add batches."""
    centers = [[rng.gauss(0, 1) for _ in range(DIM)] for _ in range(12)]

    def vectors(n):
        out = []
        for _ in range(n):
            c = rng.choice(centers)
            out += [x + rng.gauss(0, 0.3) for x in c]
        return out

    write_npy(os.path.join(directory, "emb.npy"), ITEMS, DIM, vectors(ITEMS))
    with open(os.path.join(directory, "items.jsonl"), "w") as f:
        for i in range(ITEMS):
            f.write(json.dumps({"item": i, "source_id": "S%d" % i, "title": "Item %d" % i}) + "\n")
    with open(os.path.join(directory, "sequences.tsv"), "w") as f:
        for u in range(USERS):
            length = rng.randint(4, 12)
            f.write("%d\t%s\n" % (u, " ".join(str(rng.randrange(ITEMS)) for _ in range(length))))
    for b in range(3):
        write_npy(os.path.join(directory, "add%d.npy" % b), 20, DIM, vectors(20))
    # A catalog for the first batch (items 400…419) for the sequential add trials.
    with open(os.path.join(directory, "add0.jsonl"), "w") as f:
        for i in range(ITEMS, ITEMS + 20):
            f.write(json.dumps({"item": i, "source_id": "A%d" % i, "title": "Added %d" % i}) + "\n")


class Semid:
    def __init__(self, binary, work):
        self.binary = os.path.abspath(binary)
        self.work = work

    def path(self, name):
        return os.path.join(self.work, name)

    def run(self, args, check=True):
        r = subprocess.run([self.binary] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise SystemExit("semid %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr.strip()))
        return r

    def start(self, args):
        return subprocess.Popen([self.binary] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True)


def snapshot(directory):
    """name → SHA-256 of every file in an index directory, or None when there is no directory."""
    if not os.path.isdir(directory):
        return None
    out = {}
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as f:
            out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


def staging_leftovers(directory):
    parent, name = os.path.split(directory)
    return [e for e in os.listdir(parent) if e.startswith("." + name + ".staging-")]


def describe_difference(found, expected):
    if found is None or expected is None:
        return "directory %s" % ("missing" if found is None else "present")
    changed = sorted(k for k in set(found) | set(expected) if found.get(k) != expected.get(k))
    return "files differing: %s" % ", ".join(changed[:6])


class Trials:
    def __init__(self, semid, rng):
        self.semid = semid
        self.rng = rng
        self.counts = {}
        self.failures = []
        self.reads = 0
        self.failed_reads = 0

    def count(self, kind, outcome):
        self.counts.setdefault(kind, {}).setdefault(outcome, 0)
        self.counts[kind][outcome] += 1

    def kill_time(self, duration):
        """Uniform over the whole run half the time, else in its last fifth (where it commits)."""
        if self.rng.random() < 0.5:
            return self.rng.uniform(0, duration * 1.05)
        return self.rng.uniform(duration * 0.8, duration * 1.05)

    def killed_run(self, args, at):
        p = self.semid.start(args)
        deadline = time.monotonic() + at
        while time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.002)
        killed = p.poll() is None
        if killed:
            os.kill(p.pid, signal.SIGKILL)
        _, err = p.communicate()
        if not killed and p.returncode != 0:
            return killed, err
        return killed, None

    def sequential(self, kind, number, case):
        """One kill of a writer: the index must be the old version or the reference new one."""
        name, prepare, args, target, duration, old, new = case
        prepare()
        at = self.kill_time(duration)
        killed, error = self.killed_run(args, at)
        label = "%s #%d (kill at %.3f s of %.3f s)" % (kind, number, at, duration)
        if error is not None:
            self.failures.append("%s: the command failed on its own: %s" % (label, error.strip()))
            self.count(kind, "broken")
            return
        # The next read (inspect) must accept what is there and remove a killed writer's staging.
        found = snapshot(target)
        if found is not None:
            r = self.semid.run(["inspect", target], check=False)
            if r.returncode != 0:
                self.failures.append("%s: inspect refuses the index: %s" % (label, r.stderr.strip()))
                self.count(kind, "broken")
                return
        elif old is not None:
            self.failures.append("%s: the index disappeared" % label)
            self.count(kind, "broken")
            return
        if found == old:
            outcome = "old (command killed)" if killed else "old (?)"
        elif found == new:
            outcome = "new (command killed)" if killed else "new (command finished)"
        else:
            self.failures.append("%s: neither the old nor the new version: %s / %s"
                                 % (label, describe_difference(found, old), describe_difference(found, new)))
            self.count(kind, "broken")
            return
        if found is None:
            # Nothing to read (a build killed before its first commit): its staging directory is
            # removed by the next write or read of that path; a rebuild must succeed.
            self.semid.run(args)
            if snapshot(target) != new:
                self.failures.append("%s: a rebuild after the kill differs from the reference" % label)
        leftovers = staging_leftovers(target)
        if leftovers:
            self.failures.append("%s: staging directories left after the next read: %s" % (label, leftovers))
            self.count(kind, "broken")
            return
        self.count(kind, outcome)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--semid", default=".build/release/semid", help="the semid binary")
    parser.add_argument("--trials", type=int, default=48, help="kill trials in all (a sixth are concurrent mixes)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--work", help="work directory (default: a fresh temporary one, removed afterwards)")
    parser.add_argument("--json", help="also write the counts to this file")
    options = parser.parse_args()
    if not os.access(options.semid, os.X_OK):
        raise SystemExit("crash-injection: %s is not an executable; build semid first" % options.semid)
    rng = random.Random(options.seed)
    work = options.work or tempfile.mkdtemp(prefix="semid-crash-")
    os.makedirs(work, exist_ok=True)
    semid = Semid(options.semid, work)
    started = time.monotonic()
    try:
        make_fixture(work, rng)
        p = semid.path
        build_args = ["build", "--embeddings", p("emb.npy"), "--items", p("items.jsonl")] + BUILD_FLAGS + ["--quiet"]
        # References: the version before each command and the one an uninterrupted run writes,
        # with how long that run takes.
        semid.run(build_args + ["--out", p("base.semid")])
        shutil.copytree(p("base.semid"), p("trained.semid"))
        semid.run(["train", p("trained.semid"), "--sequences", p("sequences.tsv")] + TRAIN_FLAGS + ["--quiet"])

        def reference(source, args_for, name):
            shutil.rmtree(p("ref"), ignore_errors=True)
            if source:
                shutil.copytree(source, p("ref"))
            t0 = time.monotonic()
            semid.run(args_for(p("ref")))
            duration = time.monotonic() - t0
            new = snapshot(p("ref"))
            # Same command again: the writers must be deterministic for the byte comparison.
            shutil.rmtree(p("ref"))
            if source:
                shutil.copytree(source, p("ref"))
            semid.run(args_for(p("ref")))
            if snapshot(p("ref")) != new:
                raise SystemExit("crash-injection: two uninterrupted runs of %s wrote different bytes" % name)
            shutil.rmtree(p("ref"))
            return duration, new

        kinds = {
            "build (new output)": (None, lambda out: build_args + ["--out", out]),
            "build --force (replacing)": (p("trained.semid"), lambda out: build_args + ["--out", out, "--force"]),
            "add": (p("base.semid"), lambda out: ["add", out, "--embeddings", p("add0.npy"), "--items", p("add0.jsonl"),
                                                   "--quiet"]),
            "users": (p("trained.semid"), lambda out: ["users", out, "--sequences", p("sequences.tsv")] + USERS_FLAGS
                      + ["--quiet"]),
            "train": (p("base.semid"), lambda out: ["train", out, "--sequences", p("sequences.tsv")] + TRAIN_FLAGS
                      + ["--quiet"]),
        }
        references = {}
        for kind, (source, args_for) in kinds.items():
            references[kind] = reference(source, args_for, kind)
        durations = references
        trials = Trials(semid, rng)
        mixes = max(1, options.trials // 6)
        sequential = options.trials - mixes
        names = list(kinds)
        for number in range(sequential):
            kind = names[number % len(names)]
            source, args_for = kinds[kind]
            duration, new = references[kind]
            target = p("t.semid")

            def prepare(source=source, target=target):
                shutil.rmtree(target, ignore_errors=True)
                if source:
                    shutil.copytree(source, target)

            old = snapshot(source) if source else None
            trials.sequential(kind, number, (kind, prepare, args_for(target), target, duration, old, new))
        for number in range(mixes):
            mix(trials, semid, number, references["add"][0])
        elapsed = time.monotonic() - started
    finally:
        if not options.work:
            shutil.rmtree(work, ignore_errors=True)

    total = sum(sum(c.values()) for c in trials.counts.values())
    broken = sum(c.get("broken", 0) for c in trials.counts.values())
    print("crash injection: %d trials, seed %d, %.0f s; uninterrupted runs: %s"
          % (total, options.seed, elapsed, ", ".join("%s %.2f s" % (k, d) for k, (d, _) in durations.items())))
    for kind, outcomes in trials.counts.items():
        print("  %-28s %s" % (kind, ", ".join("%s %d" % (o, n) for o, n in sorted(outcomes.items()))))
    print("  %-28s %d, failed %d" % ("reads during the mixes", trials.reads, trials.failed_reads))
    for failure in trials.failures:
        print("FAILED: " + failure)
    if options.json:
        with open(options.json, "w") as f:
            json.dump({"seed": options.seed, "trials": total, "broken": broken, "counts": trials.counts,
                       "reads": trials.reads, "failed_reads": trials.failed_reads,
                       "failures": trials.failures}, f, indent=2)
    sys.exit(1 if trials.failures else 0)


def mix(trials, semid, number, add_duration):
    """Two adds, a users and readers on one index at once; one writer killed at a random point."""
    p = semid.path
    target = p("mix.semid")
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(p("trained.semid"), target)
    writers = {
        "add1": ["add", target, "--embeddings", p("add1.npy"), "--quiet"],
        "add2": ["add", target, "--embeddings", p("add2.npy"), "--quiet"],
        "users": ["users", target, "--sequences", p("sequences.tsv")] + USERS_FLAGS + ["--quiet"],
    }
    processes = {name: semid.start(args) for name, args in writers.items()}
    victim = trials.rng.choice(sorted(writers))
    at = trials.rng.uniform(0, 3.2 * add_duration)
    t0 = time.monotonic()
    reader_failures = []
    reads = 0
    killed = False
    readers = [["inspect", target], ["export", target, "--format", "tsv", "--out", p("mix.tsv"), "--force"]]
    while any(proc.poll() is None for proc in processes.values()):
        if not killed and time.monotonic() - t0 >= at:
            if processes[victim].poll() is None:
                os.kill(processes[victim].pid, signal.SIGKILL)
                killed = True
            at = math.inf
        r = semid.run(readers[reads % len(readers)], check=False)
        reads += 1
        if r.returncode != 0:
            reader_failures.append(r.stderr.strip())
    label = "mix #%d (%s killed at %.3f s)" % (number, victim, at if at != math.inf else time.monotonic() - t0)
    kind = "concurrent mix"
    errors = []
    for name, proc in processes.items():
        _, err = proc.communicate()
        if proc.returncode != 0 and not (name == victim and killed):
            errors.append("%s exited %d: %s" % (name, proc.returncode, err.strip()))
    errors += ["a reader failed during the writes: %s" % e for e in reader_failures[:3]]
    r = semid.run(["inspect", target, "--json"], check=False)
    if r.returncode != 0:
        errors.append("inspect refuses the index: %s" % r.stderr.strip())
    else:
        manifest = json.load(open(os.path.join(target, "manifest.json")))
        batches = sorted(b["items"] for b in manifest["batches"])
        expected_adds = [n for n in ("add1", "add2") if not (n == victim and killed)]
        adds = batches.count(20)
        if adds < len(expected_adds) or adds > 2:
            errors.append("%d add batches landed, expected %d%s (batches %s)"
                          % (adds, len(expected_adds), " or 2" if victim.startswith("add") else "", batches))
        if manifest["items"] != ITEMS + 20 * adds:
            errors.append("the manifest lists %d items for batches %s" % (manifest["items"], batches))
        has_users = "users" in (manifest.get("extensions") or {})
        if not has_users and not (victim == "users" and killed):
            errors.append("the users' IDs were lost")
        rows = semid.run(["export", target, "--format", "tsv", "--out", p("mix.tsv"), "--force"], check=False)
        if rows.returncode != 0:
            errors.append("export fails: %s" % rows.stderr.strip())
        else:
            lines = open(p("mix.tsv")).read().splitlines()
            if len(lines) - 1 != manifest["items"]:
                errors.append("export wrote %d rows for %d items" % (len(lines) - 1, manifest["items"]))
    if staging_leftovers(target):
        errors.append("staging directories left: %s" % staging_leftovers(target))
    if errors:
        trials.failures += ["%s: %s" % (label, e) for e in errors]
        trials.count(kind, "broken")
    else:
        trials.count(kind, "whole (%s)" % ("a writer killed" if killed else "all finished"))
    trials.reads += reads
    trials.failed_reads += len(reader_failures)


if __name__ == "__main__":
    main()
