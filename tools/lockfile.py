"""Write pyodide-lock.json for a bundle directory: Pyodide's own `info`, plus every wheel in it.

Run with the venv's Python (it uses the `pyodide-lock` library, which reads each wheel's
metadata, evaluates its dependency markers for Pyodide's platform and checks the closure):

    python -m tools.lockfile DIR UPSTREAM_LOCK

Only what the directory holds is listed, so a missing package fails at load time with a
name instead of reaching for a CDN.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pyodide_lock import PyodideLockSpec
from pyodide_lock.utils import add_wheels_to_spec


def write_lock(bundle_dir: Path, upstream_lock: Path) -> PyodideLockSpec:
    upstream = json.loads(upstream_lock.read_text())
    # Pyodide 314's lock no longer repeats its version in `info`; pyodide-lock 0.1.2 (the newest on
    # PyPI here) still requires the field, so we fill it from the npm package's own version.
    version = json.loads((upstream_lock.parent / "package.json").read_text())["version"]
    empty = PyodideLockSpec(info={"version": version, **upstream["info"]}, packages={})
    spec = add_wheels_to_spec(empty, sorted(bundle_dir.glob("*.whl")), base_path=bundle_dir)
    spec.to_json(bundle_dir / "pyodide-lock.json", indent=1)
    return spec


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    spec = write_lock(Path(argv[0]), Path(argv[1]))
    print(f"pyodide-lock.json: {', '.join(sorted(spec.packages))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
