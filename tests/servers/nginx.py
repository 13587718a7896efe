"""Debian's nginx with a private config: HTTP/2 over TLS (ALPN) and h2c, for the HTTP/2 tests.

nginx runs in the foreground (``daemon off``) from a private folder with its own config,
``nginx -p DIR -c DIR/nginx.conf -e DIR/error.log``, on free loopback ports (nginx cannot
listen on port 0, so a port is found by binding port 0 first; a taken one is retried).
It serves the files of ``files_dir`` under ``/files/`` with the test CA's certificate,
counts connections (``/nginx_status``, ``accepted_connections``) and answers ``/small``.
``http2_max_concurrent_streams`` is set by the caller. Debian builds nginx with the
http2 module; nginx 1.22's syntax (``http2`` on ``listen``) is used.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import trustme

from tests.servers import require_binary, tls

CONFIG = """\
daemon off;
worker_processes 1;
user root;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp_body;
    proxy_temp_path {dir}/tmp_proxy;
    fastcgi_temp_path {dir}/tmp_fastcgi;
    uwsgi_temp_path {dir}/tmp_uwsgi;
    scgi_temp_path {dir}/tmp_scgi;
    keepalive_requests 100000;
    http2_max_concurrent_streams {streams};
    server {{
        listen 127.0.0.1:{tls_port} ssl http2;
        listen 127.0.0.1:{h2c_port} http2;
        listen 127.0.0.1:{http_port};
        ssl_certificate {dir}/cert.pem;
        ssl_certificate_key {dir}/key.pem;
        location = /small {{ default_type text/plain; return 200 "small\\n"; }}
        location = /nginx_status {{ stub_status; }}
        location /files/ {{ alias {files}/; default_type application/octet-stream; }}
    }}
}}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class NginxServer:
    """A running nginx: ``https`` (h2 or http/1.1 by ALPN), ``h2c`` and ``http`` base URLs."""

    def __init__(self, directory: Path, files_dir: Path, cert: trustme.LeafCert, streams: int):
        self.directory = directory
        self.files_dir = files_dir
        self.cert = cert
        self.streams = streams
        self.https = self.h2c = self.http = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._probes = 0

    def start(self) -> NginxServer:
        nginx = require_binary("nginx")
        tls.write_cert_files(self.cert, self.directory)
        for _attempt in range(3):
            ports = {"tls_port": _free_port(), "h2c_port": _free_port(), "http_port": _free_port()}
            conf = self.directory / "nginx.conf"
            conf.write_text(
                CONFIG.format(
                    dir=self.directory, files=self.files_dir, streams=self.streams, **ports
                )
            )
            proc = subprocess.Popen(
                [nginx, "-p", str(self.directory), "-c", str(conf), "-e", "error.log"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_ready(ports["http_port"], proc):
                self._proc = proc
                self.https = f"https://127.0.0.1:{ports['tls_port']}"
                self.h2c = f"http://127.0.0.1:{ports['h2c_port']}"
                self.http = f"http://127.0.0.1:{ports['http_port']}"
                return self
            proc.kill()
            proc.wait()
        log = (self.directory / "error.log").read_text(errors="replace")
        raise RuntimeError(f"nginx did not start:\n{log}")

    @staticmethod
    def _wait_ready(port: int, proc: subprocess.Popen[bytes]) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.01)
        return False

    def accepted_connections(self) -> int:
        """Connections accepted so far, not counting those of these calls themselves."""
        self._probes += 1
        with urllib.request.urlopen(f"{self.http}/nginx_status", timeout=5) as resp:
            lines = resp.read().decode().splitlines()
        return int(lines[2].split()[0]) - self._probes

    def stop(self) -> None:
        proc = self._proc
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
