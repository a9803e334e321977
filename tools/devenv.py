"""`.colonies/dev.env`: written by `python build.py up`, read by tests, demo and bench. Its one owner."""

from __future__ import annotations

import os

from .layout import DEV_ENV, TOOLS_BIN


def write_dev_env(env: dict[str, str]) -> None:
    lines = ["# Written by `python build.py up`. Use: source .colonies/dev.env"]
    lines += [f"export {k}={v}" for k, v in env.items() if not k.startswith("COLONIES_DB")]
    lines.append(f'export PATH="{TOOLS_BIN}:$PATH"')
    DEV_ENV.parent.mkdir(parents=True, exist_ok=True)
    DEV_ENV.write_text("\n".join(lines) + "\n")
    DEV_ENV.chmod(0o600)


def read_dev_env() -> dict[str, str]:
    """The local colony's settings; COLONIES_* variables in the environment win."""
    env: dict[str, str] = {}
    if DEV_ENV.exists():
        for line in DEV_ENV.read_text().splitlines():
            if line.startswith("export ") and "=" in line and not line.startswith("export PATH"):
                key, value = line.removeprefix("export ").split("=", 1)
                env[key] = value
    env.update({k: v for k, v in os.environ.items() if k.startswith("COLONIES_")})
    return env


def server_url(env: dict[str, str]) -> str:
    scheme = "https" if env.get("COLONIES_TLS", "false").lower() == "true" else "http"
    return f"{scheme}://{env['COLONIES_SERVER_HOST']}:{env.get('COLONIES_SERVER_PORT', '50080')}"
