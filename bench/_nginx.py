"""A private Debian nginx on loopback, shared by the bench scripts (not a benchmark itself).

`nginx_server(files_dir)` starts `nginx -p DIR -c DIR/nginx.conf -e DIR/error.log` in the
foreground on 127.0.0.1 (a free port found by binding port 0 first), waits until it accepts,
yields its base URL and stops it on exit. It serves:

- `/small`   a fixed 12-byte `text/plain` 200 body (`return 200`, no disk access)
- `/files/`  the files in `files_dir` (sendfile on), when given
- `/nginx_status`  stub_status; `accepted_connections(base)` reads its counter, so a script
  can tell how many TCP connections a client opened

One worker, no access log, effectively unlimited keep-alive requests: on loopback it answers
several times faster than any Python client, so the clients are what is measured.

`nginx_h2_servers(files_dir)` runs one nginx with three listeners on the same routes and
yields their base URLs: `"http"` (HTTP/1.1), `"https"` (TLS, ALPN h2 or http/1.1; a
self-signed certificate for 127.0.0.1 made with `openssl`, so clients skip verification)
and `"h2c"` (HTTP/2 with prior knowledge). Debian's nginx is built with the http2 module.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SMALL_BODY = "hello, zurl\n"

CONFIG = """\
daemon off;
worker_processes 1;
user root;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp_body;
    proxy_temp_path {dir}/tmp_proxy;
    fastcgi_temp_path {dir}/tmp_fastcgi;
    uwsgi_temp_path {dir}/tmp_uwsgi;
    scgi_temp_path {dir}/tmp_scgi;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    sendfile on;
    tcp_nopush on;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
{extra}        location = /small {{
            default_type text/plain;
            return 200 "{body}";
        }}
        location = /nginx_status {{
            stub_status;
        }}
        location /files/ {{
            alias {files}/;
            default_type application/octet-stream;
        }}
    }}
}}
"""


# Extra listeners of nginx_h2_servers: TLS with ALPN (h2, http/1.1), and h2c. nginx 1.22
# syntax (`http2` on `listen`); the certificate is a throwaway self-signed one.
H2_LISTENERS = """\
        listen 127.0.0.1:{tls_port} ssl http2 backlog=4096;
        listen 127.0.0.1:{h2c_port} http2 backlog=4096;
        ssl_certificate {dir}/cert.pem;
        ssl_certificate_key {dir}/key.pem;
        http2_max_concurrent_streams 128;
        http2_chunk_size {chunk};
"""


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1 (nginx cannot listen on port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(port: int, proc: subprocess.Popen[bytes], deadline: float) -> bool:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.01)
    return False


def accepted_connections(base: str) -> int:
    """Connections nginx has accepted so far (each call itself opens one)."""
    with urllib.request.urlopen(f"{base}/nginx_status", timeout=5) as resp:
        lines = resp.read().decode().splitlines()
    return int(lines[2].split()[0])  # "Active connections: N" / header / "accepts ..."


@contextmanager
def nginx_server(files_dir: Path | None = None) -> Iterator[str]:
    """Run nginx for the duration of the block; yields `http://127.0.0.1:PORT`."""
    with _nginx(files_dir, http2=False) as urls:
        yield urls["http"]


@contextmanager
def nginx_h2_servers(
    files_dir: Path | None = None, *, chunk: str = "8k"
) -> Iterator[dict[str, str]]:
    """nginx with HTTP/2 listeners too; yields {"http": ..., "https": ..., "h2c": ...}.

    ``chunk`` is nginx's ``http2_chunk_size`` (its default 8k): the most body it puts in
    one DATA frame (never more than the client's SETTINGS_MAX_FRAME_SIZE allows)."""
    with _nginx(files_dir, http2=True, h2_chunk=chunk) as urls:
        yield urls


def _self_signed(directory: str) -> None:
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", f"{directory}/key.pem", "-out", f"{directory}/cert.pem"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


@contextmanager
def _nginx(
    files_dir: Path | None, *, http2: bool, h2_chunk: str = "8k"
) -> Iterator[dict[str, str]]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    with tempfile.TemporaryDirectory(prefix="zurl-bench-nginx-") as tmp:
        files = files_dir or Path(tmp) / "files"
        files.mkdir(exist_ok=True)
        if http2:
            _self_signed(tmp)
        for attempt in range(3):  # the free port can be taken between bind and listen
            port, tls_port, h2c_port = free_port(), free_port(), free_port()
            extra = H2_LISTENERS.format(
                dir=tmp, tls_port=tls_port, h2c_port=h2c_port, chunk=h2_chunk
            )
            conf = Path(tmp) / "nginx.conf"
            body = SMALL_BODY.replace("\n", "\\n")
            conf.write_text(
                CONFIG.format(
                    dir=tmp, port=port, body=body, files=files, extra=extra if http2 else ""
                )
            )
            proc = subprocess.Popen(
                [nginx, "-p", tmp, "-c", str(conf), "-e", f"{tmp}/error.log"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if _wait_ready(port, proc, time.monotonic() + 5):
                break
            proc.kill()
            proc.wait()
            if attempt == 2:
                log = (Path(tmp) / "error.log").read_text(errors="replace")
                raise RuntimeError(f"nginx did not start:\n{log}")
        urls = {"http": f"http://127.0.0.1:{port}"}
        if http2:
            urls["https"] = f"https://127.0.0.1:{tls_port}"
            urls["h2c"] = f"http://127.0.0.1:{h2c_port}"
        try:
            yield urls
        finally:
            proc.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
