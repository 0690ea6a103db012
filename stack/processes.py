"""Start a server as a real process and learn its ports from its 'serving' log line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path


class ServerProcess:
    """`python -m <module>` with the given environment; port 0 settings are fine."""

    def __init__(self, module: str, env: dict[str, str], cwd: Path):
        self.module = module
        self.env = {**os.environ, **env}
        self.cwd = cwd
        self.lines: list[str] = []
        self.port: int | None = None
        self.metrics_port: int | None = None
        self._serving = threading.Event()
        self.process: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 30) -> ServerProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._drain, daemon=True).start()
        if not self._serving.wait(timeout):
            self.stop()
            raise RuntimeError(f"{self.module} did not start:\n" + "\n".join(self.lines[-30:]))
        return self

    def _drain(self) -> None:
        if self.process is None or self.process.stderr is None:
            raise RuntimeError(f"{self.module} is read before it was started")
        for line in self.process.stderr:
            self.lines.append(line.rstrip())
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("message") == "serving":
                self.port, self.metrics_port = entry["port"], entry.get("metrics_port")
                self._serving.set()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.module} is stopped before it was started")
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def log_messages(self) -> list[dict]:
        messages = []
        for line in list(self.lines):
            try:
                messages.append(json.loads(line))
            except ValueError:
                continue
        return messages


STACK_ORDER = ("llm_provider_server", "ras_server", "cj_server")  # CJ last: it needs the other two's ports
PREFIXES = {"llm_provider_server": "LPS", "ras_server": "RAS", "cj_server": "CJ"}


def stack_envs(workdir: Path, lps: dict[str, str] | None = None) -> dict[str, dict[str, str]]:
    """Environments for the three servers on free ports with SQLite files in `workdir`."""
    envs = {
        module: {
            f"{prefix}_PORT": "0",
            f"{prefix}_METRICS_PORT": "0",
            f"{prefix}_DATABASE_URL": f"sqlite:///{workdir / f'{module}.db'}",
        }
        for module, prefix in PREFIXES.items()
    }
    envs["llm_provider_server"].update(lps or {})
    return envs


def start_stack(workdir: Path, envs: dict[str, dict[str, str]]) -> dict[str, ServerProcess]:
    """Start LPS, RAS and CJ (wired to the other two) as processes; stop them all if one fails."""
    processes: dict[str, ServerProcess] = {}
    try:
        for module in STACK_ORDER:
            env = dict(envs[module])
            if module == "cj_server":
                env.update(
                    CJ_LPS_TARGET=processes["llm_provider_server"].target, CJ_RAS_TARGET=processes["ras_server"].target
                )
            processes[module] = ServerProcess(module, env, cwd=workdir).start()
    except BaseException:
        stop_stack(processes)
        raise
    return processes


def stop_stack(processes: dict[str, ServerProcess]) -> dict[str, int]:
    """SIGTERM each server, CJ first so it stops sending work; their exit codes."""
    return {module: processes[module].stop() for module in reversed(STACK_ORDER) if module in processes}
