"""A real forward proxy for tests: proxy.py in a subprocess, on 127.0.0.1.

proxy.py forks and takes over signals, so it only runs as a subprocess; it starts in
~0.15 s and is started once per test session per variant (plain, basic auth, TLS).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

READY_TIMEOUT = 15.0
PROXY_USER = "user"
PROXY_PASSWORD = "pass"


@dataclasses.dataclass
class ProxyServer:
    port: int
    tls: bool
    auth: bool
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def url_with_credentials(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_proxy(
    directory: Path, *, auth: bool = False, cert: tuple[Path, Path] | None = None
) -> ProxyServer:
    """Start proxy.py on a free loopback port and wait until it accepts connections."""
    directory.mkdir(parents=True, exist_ok=True)
    port_file = directory / "port"
    log_path = directory / "proxy.log"
    binary = Path(sys.executable).with_name("proxy")
    command = [
        str(binary),
        "--hostname",
        "127.0.0.1",
        "--port",
        "0",
        "--port-file",
        str(port_file),
        "--num-workers",
        "1",
        "--num-acceptors",
        "1",
        "--log-file",
        str(log_path),
    ]
    if auth:
        command += ["--basic-auth", f"{PROXY_USER}:{PROXY_PASSWORD}"]
    if cert is not None:
        command += ["--cert-file", str(cert[0]), "--key-file", str(cert[1])]
    env = dict(os.environ, HOME=str(directory))  # proxy.py writes ~/.proxy
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=directory,
    )
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"proxy.py exited with {process.returncode}")
        with contextlib.suppress(FileNotFoundError, ValueError):
            port = int(port_file.read_text().strip())
            if _accepts(port):
                return ProxyServer(port, cert is not None, auth, process, log_path)
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("proxy.py did not start in time")


def _accepts(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def running_proxy(
    directory: Path, *, auth: bool = False, cert: tuple[Path, Path] | None = None
) -> Iterator[ProxyServer]:
    server = start_proxy(directory, auth=auth, cert=cert)
    try:
        yield server
    finally:
        server.stop()
