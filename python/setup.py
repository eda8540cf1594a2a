"""Builds libsemidc (the C ABI of semid, a SwiftPM product of the package one level up) in release
and bundles it into the wheel, next to the Python modules.

`pip install ./python` runs this on a machine with Swift 6. Optional environment variables, for
development and CI only (nothing is needed at run time):

- ``SEMID_LIBRARY``: bundle this already built libsemidc file instead of building one.
- ``SEMID_SWIFT``: the swift executable (default: ``swift`` on PATH, then /opt/swift/usr/bin/swift).
- ``SEMID_SWIFT_BUILD_ARGS``: extra ``swift build`` arguments, e.g.
  ``--scratch-path .build-tests -Xswiftc -enable-testing`` to reuse the test build's modules.
"""

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent
LIBRARY_NAMES = ("libsemidc.so", "libsemidc.dylib")


def swift_executable():
    explicit = os.environ.get("SEMID_SWIFT")
    if explicit:
        return explicit
    found = shutil.which("swift")
    if found:
        return found
    for candidate in ("/opt/swift/usr/bin/swift", "/usr/bin/swift"):
        if os.access(candidate, os.X_OK):
            return candidate
    sys.exit("semid: building the Python package needs Swift 6 (no `swift` on PATH); install it or set SEMID_SWIFT")


def build_library():
    """Runs `swift build -c release --product semidc` and returns the built library's path."""
    prebuilt = os.environ.get("SEMID_LIBRARY")
    if prebuilt:
        path = Path(prebuilt)
        if not path.is_file():
            sys.exit(f"semid: SEMID_LIBRARY={prebuilt} is not a file")
        return path
    if not (PACKAGE_ROOT / "Package.swift").is_file():
        sys.exit(f"semid: {PACKAGE_ROOT} has no Package.swift; install from a checkout of semid (pip install ./python)")
    swift = swift_executable()
    args = ["build", "-c", "release", "--package-path", str(PACKAGE_ROOT)] + shlex.split(
        os.environ.get("SEMID_SWIFT_BUILD_ARGS", ""))
    print("semid: " + " ".join([swift] + args + ["--product", "semidc"]), file=sys.stderr, flush=True)
    subprocess.run([swift] + args + ["--product", "semidc"], check=True)
    bin_dir = subprocess.run([swift] + args + ["--show-bin-path"], check=True, capture_output=True,
                             text=True).stdout.strip().splitlines()[-1]
    for name in LIBRARY_NAMES:
        path = Path(bin_dir) / name
        if path.is_file():
            return path
    sys.exit(f"semid: swift build finished but {bin_dir} holds none of {', '.join(LIBRARY_NAMES)}")


class BuildWithLibrary(build_py):
    """build_py that also puts libsemidc and semid.h into the package."""

    def run(self):
        super().run()
        library = build_library()
        target = Path(self.build_lib) / "semid"
        target.mkdir(parents=True, exist_ok=True)
        for name in LIBRARY_NAMES:
            (target / name).unlink(missing_ok=True)
        shutil.copy2(library, target / library.name)
        include = target / "include"
        include.mkdir(exist_ok=True)
        shutil.copy2(PACKAGE_ROOT / "Sources" / "CSemid" / "include" / "semid.h", include / "semid.h")


class BinaryDistribution(Distribution):
    """The wheel holds a native library, so it is platform-specific."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildWithLibrary}, distclass=BinaryDistribution)
