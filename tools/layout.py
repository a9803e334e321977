"""Where things are and which ports they use: one owner for every path and port of the checkout."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / ".tools"
TOOLS_BIN = TOOLS / "bin"
COLONIES_BIN = TOOLS_BIN / "colonies"
GO_REFERENCE_BIN = TOOLS_BIN / "goexecutor"  # bench/goexecutor, built by `build.py bench`
STATE = ROOT / ".colonies"
DEV_ENV = STATE / "dev.env"
ADMISSION_DB = STATE / "admission.db"  # the admission service's invites (python -m wasm_executor.admission)
VENV = ROOT / ".venv"
DIST = ROOT / "dist"
WEB_OUT = DIST / "web"
PYODIDE_TEST_OUT = DIST / "pyodide-test"  # the runtime plus the wheels only the in-Pyodide tests load
ARTIFACTS = ROOT / "test-artifacts"
TEST_INDEX_DIR = TOOLS / "wheels" / "test-index"  # wheels the tests serve as a package index (not in the bundle)
TEST_DISTRIBUTION_DIR = TOOLS / "pyodide-dist-test"  # a small Pyodide distribution the tests serve (`build.py distribution`)

HOST = "127.0.0.1"
SERVER_PORT = 50080
SERVE_PORT = 8000
ADMISSION_PORT = 50081
COLONY_NAME = "dev"
USER_NAME = "myuser"
