"""--download/--output/--continue against loopback servers: where files land, resuming,
refusing to append, overwriting, the progress bar and flat memory on a large body."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

from cli.exitcodes import ExitCode
from cli.output.filenames import choose, from_content_disposition, sanitize, unused
from tests.cli.conftest import ROOT, ZURL, Result, zurl
from tests.servers.raw import RawConnection, header_value, parse_head

BODY = bytes(range(256)) * 40  # 10240 bytes, every byte value


async def in_thread(*args: str, **kwargs: Any) -> Result:
    return await asyncio.to_thread(zurl, *args, **kwargs)


def response(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# --- names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ("attachment; filename=/etc/passwd", "passwd"),
        ('attachment; filename="..\\..\\boot.ini"', "boot.ini"),
        ("attachment; filename*=UTF-8''..%2F..%2Fescape.txt", "escape.txt"),
        # control characters cannot be sent raw in a header (the engine refuses them)
        ("attachment; filename*=UTF-8''%1B]0%3Bowned%07red%0D%0A.txt", "]0;ownedred.txt"),
        ('attachment; filename=".."', "file.bin"),
        ('attachment; filename=""', "file.bin"),
        ("attachment; filename*=UTF-8''%E2%80%AEgnp.exe", "gnp.exe"),  # a bidi override
        ('attachment; filename=".bashrc"', "bashrc"),
    ],
)
async def test_hostile_content_disposition_stays_in_the_current_directory(
    raw_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    disposition: str,
    expected: str,
) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    server = await raw_server([response(BODY, f"Content-Disposition: {disposition}")])
    result = await in_thread("-d", f"{server.url}/dl/file.bin")
    assert result.code == 0, result.err
    assert files_under(tmp_path) == [f"a/b/{expected}"]
    assert (work / expected).read_bytes() == BODY
    assert result.err == f"zurl: saved {expected} ({len(BODY)} bytes)\n"


def test_filename_star_wins_and_names_from_urls() -> None:
    value = "attachment; filename=\"plain.txt\"; filename*=UTF-8''caf%C3%A9%20menu.txt"
    assert from_content_disposition(value) == "café menu.txt"
    assert from_content_disposition('attachment; filename="a\\"b.txt"') == 'a"b.txt'
    assert choose(None, "http://h/api/data", "application/json") == "data.json"
    assert choose(None, "http://h/", "text/html; charset=utf-8") == "index.html"
    assert choose(None, "http://h/r%C3%A9sum%C3%A9.pdf?x=1", None) == "résumé.pdf"
    assert len(sanitize("x" * 400 + ".tar.gz").encode()) == 255
    assert sanitize("x" * 400 + ".tar.gz").endswith(".gz")


def test_existing_names_get_a_numbered_suffix(tmp_path: Path) -> None:
    (tmp_path / "report.pdf").write_bytes(b"")
    (tmp_path / "report-1.pdf.part").write_bytes(b"")
    assert unused("report.pdf", str(tmp_path)) == "report-2.pdf"
    assert unused("new.pdf", str(tmp_path)) == "new.pdf"


async def test_download_never_overwrites_without_asking(
    raw_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.bin").write_bytes(b"mine")
    server = await raw_server([response(BODY)])
    result = await in_thread("-d", f"{server.url}/file.bin")
    assert result.code == 0, result.err
    assert (tmp_path / "file.bin").read_bytes() == b"mine"
    assert (tmp_path / "file-1.bin").read_bytes() == BODY

    refused = await in_thread("-o", "file.bin", f"{server.url}/file.bin")
    assert refused.code == ExitCode.FILE
    assert refused.err == "zurl: error: 'file.bin' exists (--overwrite replaces it)\n"
    assert (tmp_path / "file.bin").read_bytes() == b"mine"

    replaced = await in_thread("-o", "file.bin", "--overwrite", f"{server.url}/file.bin")
    assert replaced.code == 0, replaced.err
    assert (tmp_path / "file.bin").read_bytes() == BODY


async def test_output_dash_is_stdout_and_error_statuses_save_nothing(
    raw_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    server = await raw_server(
        lambda conn: _by_path(
            conn, {"/ok": response(BODY), "/gone": response(b"no", status="404 Not Found")}
        )
    )
    piped = await in_thread("-o", "-", f"{server.url}/ok")
    assert (piped.code, piped.stdout, piped.err) == (0, BODY, "")
    missing = await in_thread("-d", f"{server.url}/gone")
    assert missing.code == ExitCode.HTTP_4XX
    assert missing.err == "zurl: error: HTTP 404 Not Found: nothing saved\n"
    assert files_under(tmp_path) == []


async def _by_path(conn: RawConnection, answers: dict[str, bytes]) -> None:
    _, target, _ = parse_head(await conn.read_request())
    conn.write(answers[target])


# --- interrupted downloads, --continue -------------------------------------------------


def _resuming_server(honour_range: bool) -> Any:
    """First connection: half the body, then the connection closes. Later ones: a Range
    is honoured (206) or ignored (200 and the whole body)."""
    half = len(BODY) // 2

    async def script(conn: RawConnection) -> None:
        _, _, headers = parse_head(await conn.read_request())
        if conn.index == 0:
            conn.write(response(BODY)[: -len(BODY) + half])
            await conn.drain()
            conn.close()  # a FIN half-way: a reset might discard what was already sent
            return
        wanted = header_value(headers, "Range")
        if honour_range and wanted is not None:
            start = int(wanted.removeprefix("bytes=").rstrip("-"))
            rest = BODY[start:]
            conn.write(
                response(
                    rest,
                    f"Content-Range: bytes {start}-{len(BODY) - 1}/{len(BODY)}",
                    status="206 Partial Content",
                )
            )
        else:
            conn.write(response(BODY))

    return script


async def test_an_interrupted_download_resumes_to_an_identical_file(
    raw_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    server = await raw_server(_resuming_server(honour_range=True))
    url = f"{server.url}/big.bin"
    cut = await in_thread("-o", "big.bin", url)
    assert cut.code in (ExitCode.MALFORMED, ExitCode.NETWORK), cut.err
    assert not (tmp_path / "big.bin").exists()
    part = (tmp_path / "big.bin.part").read_bytes()
    assert 0 < len(part) < len(BODY) and BODY.startswith(part)
    assert "big.bin.part keeps the" in cut.err and "--continue" in cut.err

    resumed = await in_thread("-c", "-o", "big.bin", url)
    assert resumed.code == 0, resumed.err
    assert (tmp_path / "big.bin").read_bytes() == BODY
    assert files_under(tmp_path) == ["big.bin"]
    sent = server.received[1].decode("latin-1")
    assert f"Range: bytes={len(part)}-\r\n" in sent
    assert "Accept-Encoding: identity\r\n" in sent


async def test_continue_refuses_when_the_server_ignores_range(
    raw_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    server = await raw_server(_resuming_server(honour_range=False))
    url = f"{server.url}/big.bin"
    await in_thread("-o", "big.bin", url)
    before = (tmp_path / "big.bin.part").read_bytes()

    refused = await in_thread("-c", "-o", "big.bin", url)
    assert refused.code == ExitCode.RESUME_REFUSED
    assert refused.err.count("\n") == 1
    assert "did not resume at byte" in refused.err and "HTTP 200" in refused.err
    assert (tmp_path / "big.bin.part").read_bytes() == before
    assert not (tmp_path / "big.bin").exists()


async def test_continue_of_a_complete_part_is_not_downloaded_again(
    raw_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.bin.part").write_bytes(BODY)
    server = await raw_server(
        [response(b"", f"Content-Range: bytes */{len(BODY)}", status="416 Range Not Satisfiable")]
    )
    result = await in_thread("-c", "-o", "f.bin", f"{server.url}/f.bin")
    assert result.code == 0, result.err
    assert (tmp_path / "f.bin").read_bytes() == BODY
    assert files_under(tmp_path) == ["f.bin"]


async def test_a_redirect_is_saved_only_when_followed(
    raw_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    moved = response(b"", "Location: /real/name.txt", "Connection: close", status="302 Found")
    server = await raw_server(
        lambda conn: _by_path(conn, {"/short": moved, "/real/name.txt": response(BODY)})
    )
    kept = await in_thread("-d", f"{server.url}/short")
    assert kept.code == ExitCode.HTTP_3XX
    assert kept.err == "zurl: error: HTTP 302 Found: nothing saved (--follow follows redirects)\n"
    followed = await in_thread("-d", "--follow", f"{server.url}/short")
    assert followed.code == 0, followed.err
    assert files_under(tmp_path) == ["name.txt"]  # named from the final URL


async def test_a_symlink_planted_at_the_part_file_is_not_followed(
    raw_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    (tmp_path / "f.bin.part").symlink_to(victim)
    server = await raw_server([response(BODY)])
    result = await in_thread("-o", "f.bin", f"{server.url}/f.bin")
    assert result.code == ExitCode.FILE
    assert result.err.count("\n") == 1 and "cannot write 'f.bin.part'" in result.err
    assert victim.read_bytes() == b"precious"
    assert server.received == []  # refused before connecting


async def test_continue_refuses_a_symlinked_part_before_any_request(
    raw_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its size would tell the server how big the linked file is: nothing is sent."""
    monkeypatch.chdir(tmp_path)
    secret = tmp_path / "secret"
    secret.write_bytes(b"x" * 1234)
    (tmp_path / "f.bin.part").symlink_to(secret)
    server = await raw_server([response(BODY)])
    for args in (("-c", "-o", "f.bin"), ("-o", "f.bin")):
        result = await in_thread(*args, f"{server.url}/f.bin")
        assert result.code == ExitCode.FILE, result.err
        assert result.err == (
            "zurl: error: cannot write 'f.bin.part': it is a symbolic link (never followed)\n"
        )
    assert server.received == []  # not even a connection
    assert secret.read_bytes() == b"x" * 1234


@pytest.mark.parametrize(
    ("content_range", "why"),
    [
        ("bytes 5-99999999/5", "it ends past the total of 5 bytes"),
        ("bytes 5-4/10", "it ends before it starts"),
        ("bytes 0-9/10", "it starts at byte 0"),
        ("bytes */10", "no byte range"),
        ("bytes 5-9/10", "its 5 bytes are not the Content-Length of 3"),
        ("bytes 5-" + "9" * 30 + "/*", "not understood"),  # no file is that big
    ],
)
async def test_continue_checks_the_content_range_against_the_part_and_the_total(
    raw_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    content_range: str,
    why: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.bin.part").write_bytes(b"01234")
    server = await raw_server(
        [response(b"abc", f"Content-Range: {content_range}", status="206 Partial Content")]
    )
    result = await in_thread("-c", "-o", "f.bin", f"{server.url}/f.bin")
    assert result.code == ExitCode.RESUME_REFUSED, result.err
    assert result.err.count("\n") == 1 and why in result.err, result.err
    assert (tmp_path / "f.bin.part").read_bytes() == b"01234"
    assert files_under(tmp_path) == ["f.bin.part"]


async def test_a_resumed_body_longer_than_its_range_is_cut_at_the_range(
    raw_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No Content-Length (the body ends at the close): the Content-Range says how much."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.bin.part").write_bytes(b"01234")
    head = b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 5-9/10\r\n\r\n"
    server = await raw_server([head + b"56789" + b"EXTRA" * 100])
    result = await in_thread("-c", "-o", "f.bin", f"{server.url}/f.bin")
    assert result.code == ExitCode.MALFORMED, result.err
    assert "runs past the 5 bytes announced" in result.err
    assert (tmp_path / "f.bin.part").read_bytes() == b"0123456789"
    assert not (tmp_path / "f.bin").exists()


def test_continue_needs_an_output_file() -> None:
    result = zurl("-c", "-d", "http://127.0.0.1:9/x")
    assert result.code == ExitCode.USAGE
    assert "--continue needs --output FILE" in result.err


# --- what the user sees ----------------------------------------------------------------


async def test_progress_bar_on_a_terminal_only(
    raw_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    server = await raw_server(lambda conn: _by_path(conn, {"/f.bin": response(BODY)}))
    shown = await in_thread("-o", "f.bin", f"{server.url}/f.bin", tty=True, colors="none")
    assert shown.code == 0, shown.err
    assert "f.bin" in shown.err and "10.2/10.2 kB" in shown.err
    assert shown.stdout.startswith(b"HTTP/1.1 200 OK")  # the head on stdout, not the body
    assert BODY not in shown.stdout
    (tmp_path / "f.bin").unlink()
    piped = await in_thread("-o", "f.bin", f"{server.url}/f.bin")
    assert (piped.stdout, piped.err) == (b"", f"zurl: saved f.bin ({len(BODY)} bytes)\n")


async def test_large_download_keeps_memory_flat(raw_server: Any, tmp_path: Path) -> None:
    """200 MB to a file: the client's peak RSS stays far below the body's size."""
    size, piece = 200 * 1024 * 1024, b"z" * (1 << 20)

    async def script(conn: RawConnection) -> None:
        await conn.read_request()
        conn.write(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
        for _ in range(size // len(piece)):
            conn.write(piece)
            await conn.drain()

    server = await raw_server(script)
    probe = (
        "import resource, subprocess, sys\n"
        "rc = subprocess.call(sys.argv[1:])\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(rc, peak)\n"  # kilobytes on Linux
    )
    out = tmp_path / "big.bin"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        probe,
        str(ZURL),
        "-o",
        str(out),
        f"{server.url}/big",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=50)
    rc, peak_kb = map(int, stdout.split())
    assert rc == 0, stderr
    assert out.stat().st_size == size
    assert peak_kb < 80 * 1024, f"peak RSS {peak_kb} kB"
    with out.open("rb") as fh:
        assert hashlib.sha256(fh.read(1 << 20)).digest() == hashlib.sha256(piece).digest()
    os.unlink(out)


def _gzip_of_zeros(size: int) -> bytes:
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    block = bytes(1 << 24)
    out = [packer.compress(block) for _ in range(size // len(block))]
    return b"".join([*out, packer.flush()])


async def test_a_compressed_download_is_not_capped_at_the_in_memory_limit(
    raw_server: Any,
) -> None:
    """The engine stops a body held in memory at 1 GiB decoded (a bomb guard); a download
    goes to a file, so its limit is lifted: 1.1 GiB of gzip-encoded zeros arrive whole."""
    size = 70 << 24  # 1.09 GiB decoded
    gz = _gzip_of_zeros(size)
    server = await raw_server([response(gz, "Content-Encoding: gzip")])
    result = await in_thread("-o", os.devnull, f"{server.url}/zeros")
    assert result.code == 0, result.err
    assert result.err == f"zurl: saved {os.devnull} ({size} bytes)\n"
