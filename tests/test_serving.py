"""`kith serve --workers N`: N processes on one port, stopped together."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

KITH = str(Path(sys.executable).with_name("kith"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def listeners(port: int) -> int:
    """Sockets listening on ``port``, from the kernel's table (one per worker)."""
    found = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        found += fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT workers are Linux-only")
def test_two_workers_listen_on_one_port_and_stop_together(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "KITH_DATABASE_URL": f"sqlite:///{tmp_path / 'kith.db'}",
        "KITH_DEMO": "true",
        "KITH_PORT": str(port),
        "KITH_LOG_LEVEL": "warning",
    }
    server = subprocess.Popen(
        [KITH, "serve", "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # Generous: each worker is a fresh interpreter importing all of Kith, and in CI
        # the other half of the suite loads the same two cores.
        deadline = time.monotonic() + 120
        while listeners(port) < 2 and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.1)
        listening = listeners(port)
        if listening == 2:
            health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5)
            assert health.json()["status"] == "ok"
            taken = subprocess.run([KITH, "serve", "--workers", "2"], env=env, capture_output=True, text=True)
            assert taken.returncode != 0
            assert f"cannot listen on 127.0.0.1:{port}" in taken.stderr
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)  # the parent only: it stops its workers
        try:
            output = server.communicate(timeout=30)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            output = server.communicate()[0].decode(errors="replace") + "\n(killed: did not stop on SIGTERM)"
    assert listening == 2, f"{listening} workers listening on {port}; the server said:\n{output}"
    assert server.returncode == 0, output
    deadline = time.monotonic() + 10
    while running_in_group(server.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert running_in_group(server.pid) == []  # no worker outlived it


def running_in_group(group: int) -> list[int]:
    """Processes of the process group ``group`` that are still running (not zombies)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == group:
            found.append(int(entry.name))
    return found
