"""The page's bundle: our wheel, Pyodide from npm, pure wheels from PyPI, and a lock file.

`build_bundle` makes dist/web (what the page loads, offline) and dist/pyodide-test (the same
runtime plus what only the in-Pyodide tests load); `write_distribution` a Pyodide distribution of
pure wheels (an owner's mirror, for shipped code's `requires`). Used by build.py.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

from tools.layout import DIST, PYODIDE_TEST_OUT, ROOT, TOOLS, WEB_OUT
from tools.steps import StepFailed, apt_install, run, say

PYODIDE_VERSION = "314.0.7"
PYODIDE_PYTHON = "3.14"

# Pure wheels the browser needs at run time (the wheel's own dependency closure), and micropip,
# which a slot loads only to install shipped code's `requires` from the page owner's package index.
RUNTIME_WHEELS = ["ecdsa==0.19.2", "six==1.17.0", "micropip==0.11.1"]
# A small pure package bundled for the tests of `requires` (python build.py build --with …), and
# one the bundle lacks, which the tests serve from a package index of their own.
TEST_EXTRAS = ["more-itertools==11.2.1"]
TEST_INDEX_WHEELS = ["tomli-w==1.2.0"]
# A package (with dependencies) neither the bundle nor that index has: the tests serve it from a
# small Pyodide distribution of their own (`python build.py distribution`), as an owner's mirror.
TEST_DISTRIBUTION_WHEELS = ["cattrs==26.2.1"]
# Extra wheels that pytest-pyodide's @run_in_pyodide needs inside the bundle.
PYODIDE_TEST_WHEELS = [
    "pytest==9.1.0",
    "pluggy==1.7.0",
    "iniconfig==2.3.1",
    "packaging==26.3",
    "pygments==2.21.0",
    "tblib==3.2.2",
    "pytest-asyncio==1.5.0",
]
PYODIDE_RUNTIME_FILES = [
    "pyodide.js",
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.js",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "package.json",
]


def build_wheel(py: Path) -> Path:
    out = DIST / "wheel"
    shutil.rmtree(out, ignore_errors=True)
    say("building the wasm-executor wheel")
    run(
        "build wheel",
        [str(py), "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT)],
        capture=True,
    )
    wheels = list(out.glob("wasm_executor-*-py3-none-any.whl"))
    if len(wheels) != 1:
        raise StepFailed(f"step 'build wheel': expected one py3-none-any wheel in {out}, found {wheels}")
    return wheels[0]


def ensure_pyodide_npm() -> Path:
    pkg = TOOLS / "npm" / "node_modules" / "pyodide"
    if (pkg / "package.json").exists() and json.loads((pkg / "package.json").read_text())["version"] == PYODIDE_VERSION:
        return pkg
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):  # node also runs the in-Pyodide tests
        apt_install("install Node.js and npm", ["nodejs", "npm"])
        npm = shutil.which("npm") or "npm"
    (TOOLS / "npm").mkdir(parents=True, exist_ok=True)
    say(f"npm install pyodide@{PYODIDE_VERSION}")
    npm_cmd = [npm, "install", "--prefix", str(TOOLS / "npm"), "--no-audit", "--no-fund", f"pyodide@{PYODIDE_VERSION}"]
    run("npm install pyodide", npm_cmd, capture=True)
    return pkg


def download_wheels(py: Path, specs: list[str], dest: Path, with_deps: bool = False) -> list[Path]:
    """Pure wheels for Pyodide's Python from PyPI, cached in `dest`; pinned specs are fetched once."""
    dest.mkdir(parents=True, exist_ok=True)
    names = [re.split(r"[=<>!~\[ ]", s, maxsplit=1)[0].replace("-", "_").lower() for s in specs]
    have = [w for w in dest.glob("*.whl") if w.name.split("-")[0].lower() in names]
    if len(have) < len(specs) or with_deps:
        say(f"downloading pure wheels from PyPI: {' '.join(specs)}")
        before = set(dest.glob("*.whl"))
        proc = run(
            "pip download wheels",
            [str(py), "-m", "pip", "download", "--only-binary=:all:", "--python-version", PYODIDE_PYTHON,
             "--platform", "any", "--implementation", "py", "-d", str(dest), *([] if with_deps else ["--no-deps"]), *specs],
            capture=True, check=False,
        )
        if proc.returncode:
            raise StepFailed(
                f"step 'pip download': {' '.join(specs)} has no pure-Python (py3-none-any) wheel for Pyodide's "
                f"Python {PYODIDE_PYTHON} on PyPI, or does not exist:\n{proc.stdout}{proc.stderr}"
            )
        if with_deps:  # pip names every wheel it saved or found ("Saved …" / "File was already downloaded …")
            found = {dest / Path(m).name for m in re.findall(r"(?:Saved|already downloaded) (\S+\.whl)", proc.stdout)}
            return sorted(found | (set(dest.glob("*.whl")) - before))
        have = [w for w in dest.glob("*.whl") if w.name.split("-")[0].lower() in names]
    return have


def write_pyodide_dir(py: Path, dest: Path, pyodide_pkg: Path, wheels: list[Path]) -> None:
    """dest/: the Pyodide runtime from npm, the given wheels, and a pyodide-lock.json listing only them."""
    dest.mkdir(parents=True)
    for f in PYODIDE_RUNTIME_FILES:
        src = pyodide_pkg / f
        if src.exists():
            shutil.copy2(src, dest / f)
    for f in ("pyodide.asm.wasm", "pyodide.mjs", "python_stdlib.zip"):
        if not (dest / f).exists():
            raise StepFailed(f"step 'bundle': {f} missing from the npm package pyodide@{PYODIDE_VERSION}")
    for whl in wheels:
        shutil.copy2(whl, dest / whl.name)
    run("write pyodide-lock.json", [str(py), "-m", "tools.lockfile", str(dest), str(pyodide_pkg / "pyodide-lock.json")],
        cwd=ROOT, capture=True)


def write_distribution(py: Path, dest: Path, specs: list[str]) -> list[Path]:
    """dest/: a Pyodide distribution in the release's format (wheels and a pyodide-lock.json that
    lists them with their dependencies, for this Pyodide version) made of pure wheels from PyPI.
    A page pointed at it (its "Pyodide distribution URL") loads them for shipped code's `requires`."""
    pyodide_pkg = ensure_pyodide_npm()
    dest.mkdir(parents=True, exist_ok=True)
    wheels = download_wheels(py, specs, TOOLS / "wheels" / "distribution", with_deps=True)
    for stale in dest.glob("*.whl"):
        stale.unlink()
    for whl in wheels:
        shutil.copy2(whl, dest / whl.name)
    run("write pyodide-lock.json", [str(py), "-m", "tools.lockfile", str(dest), str(pyodide_pkg / "pyodide-lock.json")],
        cwd=ROOT, capture=True)
    return wheels


def tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def build_bundle(py: Path, extras: list[str]) -> None:
    """dist/web (the page, the Pyodide runtime, our wheel, its dependencies, a lock) and
    dist/pyodide-test (the same runtime plus the wheels only the in-Pyodide tests load)."""
    wheel = build_wheel(py)
    pyodide_pkg = ensure_pyodide_npm()
    runtime_whl = download_wheels(py, RUNTIME_WHEELS, TOOLS / "wheels")
    extra_whl = download_wheels(py, extras, TOOLS / "wheels" / "extra", with_deps=True) if extras else []
    test_whl = download_wheels(py, PYODIDE_TEST_WHEELS, TOOLS / "wheels")

    shutil.rmtree(WEB_OUT, ignore_errors=True)
    shutil.copytree(ROOT / "web", WEB_OUT)
    write_pyodide_dir(py, WEB_OUT / "pyodide", pyodide_pkg, [wheel, *runtime_whl, *extra_whl])
    (WEB_OUT / "bundle.json").write_text(json.dumps(
        {"wheel": wheel.name, "wheel_sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(), "pyodide": PYODIDE_VERSION,
         "extras": [w.name for w in extra_whl]}, indent=1))
    shutil.rmtree(PYODIDE_TEST_OUT, ignore_errors=True)
    write_pyodide_dir(py, PYODIDE_TEST_OUT, pyodide_pkg, [wheel, *runtime_whl, *extra_whl, *test_whl])
    say(f"bundle ready: {WEB_OUT}, {tree_bytes(WEB_OUT) / 1e6:.1f} MB "
        f"({len(runtime_whl) + len(extra_whl) + 1} wheels{', with ' + ', '.join(extras) if extras else ''}, pyodide {PYODIDE_VERSION}); "
        f"in-Pyodide test bundle: {PYODIDE_TEST_OUT}")
