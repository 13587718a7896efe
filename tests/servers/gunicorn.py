"""httpbin's WSGI app under gunicorn with threads: keep-alive, chunked, concurrency.

We bind the listening socket ourselves (port 0, or a unix path) and hand gunicorn its file
descriptor, so there is no port race and no waiting for a port to appear. The control
socket is disabled: otherwise a second instance silently takes over the first one's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.servers import check_host, format_url

READY_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


@dataclasses.dataclass
class GunicornServer:
    process: subprocess.Popen[bytes]
    host: str
    port: int
    unix_path: str | None
    tls: bool
    log_path: Path

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        if self.unix_path is not None:
            return f"{scheme}://localhost"
        return format_url(scheme, self.host, self.port)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """SIGINT stops gunicorn in ~0.3 s (SIGTERM waits for its graceful timeout)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(FileNotFoundError):
            self.log_path.unlink()
        if self.unix_path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.unix_path)


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def _listen(host: str, unix_path: str | None) -> socket.socket:
    if unix_path is not None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(unix_path)
    else:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.bind((host, 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _connection(server: GunicornServer, timeout: float) -> http.client.HTTPConnection:
    if server.unix_path is not None:
        return _UnixHTTPConnection(server.unix_path, timeout)
    if server.tls:
        # Readiness only: the server's certificate is checked by the tests themselves.
        context = ssl._create_unverified_context()
        return http.client.HTTPSConnection(
            server.host, server.port, timeout=timeout, context=context
        )
    return http.client.HTTPConnection(server.host, server.port, timeout=timeout)


def wait_ready(server: GunicornServer, timeout: float = READY_TIMEOUT) -> None:
    """Block until GET /get answers; the socket already listens, so one try usually does."""
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early:\n{server.log()}")
        connection = _connection(server, max(0.1, deadline - time.monotonic()))
        try:
            connection.request("GET", "/get")
            if connection.getresponse().status == 200:
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                log = server.log()
                server.stop()
                raise RuntimeError(f"gunicorn did not answer in {timeout}s:\n{log}") from exc
            time.sleep(0.05)
        finally:
            connection.close()


def start_gunicorn_httpbin(
    *,
    host: str = "127.0.0.1",
    unix_path: str | None = None,
    certfile: str | None = None,
    keyfile: str | None = None,
    threads: int = 8,
) -> GunicornServer:
    """Start ``gunicorn -k gthread httpbin:app`` on a socket we bind, and wait for it."""
    if unix_path is None:
        check_host(host)
    sock = _listen(host, unix_path)
    fd = sock.fileno()
    command = [
        sys.executable, "-m", "gunicorn",
        "-k", "gthread", "--threads", str(threads), "--workers", "1",
        "--no-control-socket", "--log-level", "warning",
        "-b", f"fd://{fd}",
    ]  # fmt: skip
    if certfile is not None:
        command += ["--certfile", certfile, "--keyfile", keyfile or certfile]
    command.append("httpbin:app")
    log_fd, log_name = tempfile.mkstemp(prefix="zurl-gunicorn-", suffix=".log")
    try:
        process = subprocess.Popen(
            command,
            pass_fds=[fd],
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=log_fd,
            # httpbin's import warnings are noise in the server log, not test failures.
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
    finally:
        os.close(log_fd)
        port = 0 if unix_path is not None else sock.getsockname()[1]
        sock.close()
    server = GunicornServer(process, host, port, unix_path, certfile is not None, Path(log_name))
    wait_ready(server)
    return server
