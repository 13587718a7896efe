"""WebSocket benchmark: zurl's `client.ws_connect` against aiohttp's and the `websockets` client.

Run (peers env, see bench/README.md; `websockets` installed there too):

    bench/.peers/bin/python bench/ws.py               # full run, ~2-3 minutes
    bench/.peers/bin/python bench/ws.py --rounds 1    # quick look
    bench/.peers/bin/python bench/ws.py --rev HEAD    # committed code, not the working tree
    bench/.peers/bin/python bench/ws.py --profile     # zurl's workloads under cProfile
    bench/.peers/bin/python bench/ws.py --server websockets   # the library server instead
    bench/.peers/bin/python bench/ws.py --clients zurl aiohttp   # no floors

Every client echoes 32-byte text messages through one WebSocket connection on 127.0.0.1,
compression off on all sides (zurl and aiohttp `compress=0`, websockets `compression=None`;
the server never offers permessage-deflate either), so what differs is framing, masking
and the event loop. Two workloads:

- seq:  100,000 sequential round trips: send one message, receive its echo, check it
- pipe: 100,000 messages with a window of 64 in flight: one coroutine sends 64, then one
        more for every echo received (still one send call per message)

The echo server runs in its own process pinned to one core (the last), the clients on the
other core(s); one server process serves every client of the run. By default it is a
minimal RFC 6455 server written here (`echo_connection`): a thread per connection, blocking
`recv_into` a fixed buffer, every whole frame in it unmasked (websockets' C `apply_mask`)
and all echoes sent back with one `send`; Ping gets a Pong, Close is echoed, no extension
is ever accepted. Why not a library server: the websockets or aiohttp.web server costs per
message about what a client does (it is an asyncio client of its own, with tasks and a
message queue), so in sequential round trips it would be half of every latency measured and
squeeze all ratios toward 1; an asyncio transport alone adds epoll_wait and a 256 KiB read
buffer (mmap/mremap/munmap) to every read. This one spends ~0.4 µs of Python per message,
the rest is the two system calls; a C echo server (gcc -O2) tried as a check was no faster
for any client. The table shows the server's CPU per message (from /proc), below every
client's. `--server websockets` (`websockets.asyncio.server.serve`, compression=None) runs
the same clients against the library server, to check that the ranking holds.

Two floors take turns with the clients and are printed below them, in no verdict:
references for what a workload allows at all, since seq is bound by round-trip latency
(system calls and wake-ups on both sides), not by framing. Both send one frame built once
(the payload masked with the all-zero key, so unchanged) per message and know every echo is
34 bytes: floor-socket checks each seq echo byte for byte, otherwise they only count bytes.
They get the clients' warm-up, time cap and figures. floor-socket: a blocking socket, no
event loop (about the least any Python client can spend). floor-asyncio: an
asyncio.Protocol on the already handshaken socket, one transport.write per message, a
future per echo awaited (about the least an asyncio client can spend). The `floors:` lines
(each floor/aiohttp, per workload) show what a target over aiohttp asks: zurl/aiohttp near
floor-asyncio/aiohttp leaves zurl no time for framing; past it, no time for asyncio.

Each (client, workload) runs in its own fresh subprocess per round; rounds are interleaved
and the client order rotates each round. In a subprocess 2,000 untimed round trips (imports,
handshake, warm caches) precede the timed loop, which also stops after --time-cap seconds
(8; the rate stays valid). Figures: messages per second of the timed loop (wall clock) and
the client's CPU µs per message (getrusage, user + system, then user alone: the system part,
send/recv/epoll, is much the same for every client and dominates seq); medians over rounds,
the ratios zurl/aiohttp (target >= 1.2x) and zurl/websockets of the medians, and in
brackets the median of the per-round ratios. zurl's client/ is measured from a snapshot
taken at the start (bench/_tree.py), the working tree or --rev.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import hashlib
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _profile import print_profile
from _tree import describe, snapshot, worker_env

HERE = Path(__file__).resolve().parent
PEERS_PY = HERE / ".peers" / "bin" / "python"
CLIENTS = ("zurl", "aiohttp", "websockets")
FLOORS = ("floor-asyncio", "floor-socket")  # references for what seq and pipe allow: no verdicts
WORKLOADS = ("seq", "pipe")
TARGETS = {"aiohttp": 1.2}
PAYLOAD = "0123456789abcdef" * 2  # 32 bytes of text
WARMUP = 2_000
WORKER_TIMEOUT = 120.0  # seconds; a stuck client fails its cell instead of hanging the run
TIME_CAP = 8.0  # seconds: a timed loop stops early past this (seq on a loaded machine)
Result = tuple[int, float, float, float]  # messages, wall s, CPU s, user-mode CPU s
PROFILER: cProfile.Profile | None = None  # set in a --profile worker: profiles the timed loop
MAX_FRAME = 1 << 20  # the echo server's read buffer: larger frames end the connection
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# The floors' bytes, built once. A client frame must be masked (RFC 6455 §5.3); with the
# all-zero mask key, masking XORs nothing, so the payload goes out as is.
FLOOR_FRAME = bytes((0x81, 0x80 | len(PAYLOAD))) + bytes(4) + PAYLOAD.encode()
FLOOR_ECHO = bytes((0x81, len(PAYLOAD))) + PAYLOAD.encode()  # FIN + text, unmasked: 34 bytes
ECHO_SIZE = len(FLOOR_ECHO)
FLOOR_READ = 1 << 16  # the floors' read size, as zurl's engine starts with


# ---------------------------------------------------------------- echo server (subprocess)


def _mask_fallback(data: bytes, mask: bytes) -> bytes:
    n = len(data)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")


try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - websockets is in the peers env
    apply_mask = _mask_fallback


def echo_frames(data: bytes, out: list[bytes]) -> tuple[int, bool]:
    """Append the echo of every complete client frame in `data` to `out`:
    (bytes consumed, a Close was echoed)."""
    pos, size = 0, len(data)
    while size - pos >= 2:
        b0, b1 = data[pos], data[pos + 1]
        length, head = b1 & 0x7F, pos + 2
        if length == 126:
            if size - head < 2:
                break
            length, head = int.from_bytes(data[head : head + 2], "big"), head + 2
        elif length == 127:
            if size - head < 8:
                break
            length, head = int.from_bytes(data[head : head + 8], "big"), head + 8
        start = head + 4  # clients always mask (RFC 6455 §5.3)
        if size - start < length:
            break
        payload = apply_mask(data[start : start + length], data[head:start])
        pos = start + length
        opcode = b0 & 0x0F
        if opcode == 0x9:  # Ping -> Pong
            b0 = 0x8A
        elif opcode == 0xA:  # unsolicited Pong: nothing to say
            continue
        if length < 126:
            out.append(bytes((b0, length)))
        elif length < 1 << 16:
            out.append(bytes((b0, 126)) + length.to_bytes(2, "big"))
        else:
            out.append(bytes((b0, 127)) + length.to_bytes(8, "big"))
        out.append(payload)
        if opcode == 0x8:
            return pos, True
    return pos, False


def echo_connection(sock: socket.socket) -> None:
    """One client: the handshake, then read whatever is there, echo every whole frame in it
    with one send, until EOF or Close. Blocking recv_into a fixed buffer: two system calls
    per read, no allocation (an asyncio transport adds epoll_wait and a 256 KiB bytes
    object, i.e. mmap/mremap/munmap, to every read)."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = bytearray(MAX_FRAME + 64)
    view = memoryview(buf)
    have, opened = 0, False
    with sock:
        while have < len(buf):
            got = sock.recv_into(view[have:])
            if not got:
                return
            have += got
            data = bytes(view[:have])
            pos = 0
            if not opened:
                end = data.find(b"\r\n\r\n")
                if end < 0:
                    continue
                key = b""
                for line in data[:end].split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"sec-websocket-key":
                        key = value.strip()
                accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
                sock.sendall(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
                )
                opened, pos = True, end + 4
            out: list[bytes] = []
            used, close = echo_frames(data[pos:], out)
            pos += used
            if out:
                sock.sendall(b"".join(out))
            if close:
                return
            rest = have - pos
            buf[:rest] = data[pos:]
            have = rest


def serve(kind: str) -> None:
    """Serve until stdin closes; print the port first."""
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    if kind == "websockets":
        asyncio.run(serve_websockets())
        return
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    print(listener.getsockname()[1], flush=True)
    while True:
        sock, _ = listener.accept()
        threading.Thread(target=echo_connection, args=(sock,), daemon=True).start()


async def serve_websockets() -> None:
    from websockets.asyncio.server import serve as ws_serve

    async def echo(ws: Any) -> None:
        async for message in ws:
            await ws.send(message)

    async with ws_serve(
        echo,
        "127.0.0.1",
        0,
        compression=None,
        ping_interval=None,
        max_queue=256,
        max_size=MAX_FRAME,
    ) as server:
        print(next(iter(server.sockets)).getsockname()[1], flush=True)
        await asyncio.Future()


# ---------------------------------------------------------------- client side (subprocess)


Clock = tuple[float, float, float]  # wall s, CPU s, user-mode CPU s: since some start


def _clock() -> Clock:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), usage.ru_utime + usage.ru_stime, usage.ru_utime


def _start_timing() -> Clock:
    """Start the timed loop (and the profiler of a --profile worker)."""
    if PROFILER:
        PROFILER.enable()
    return _clock()


def _stop_timing(done: int, start: Clock) -> Result:
    wall, cpu, user = _clock()
    if PROFILER:
        PROFILER.disable()
    return done, wall - start[0], cpu - start[1], user - start[2]


async def _drive(send: Any, recv: Any, workload: str, n: int, window: int) -> Result:
    """Warm up untimed, then time `n` echoes (fewer past TIME_CAP):
    (messages echoed, wall seconds, CPU seconds, of which user mode)."""

    async def loop(count: int) -> int:
        deadline = time.perf_counter() + TIME_CAP
        if workload == "seq":
            for i in range(count):
                await send(PAYLOAD)
                if await recv() != PAYLOAD:
                    raise RuntimeError("bad echo")
                if not i & 1023 and time.perf_counter() > deadline:
                    return i + 1
            return count
        sent = min(window, count)
        for _ in range(sent):
            await send(PAYLOAD)
        done = 0
        while done < sent:
            if await recv() != PAYLOAD:
                raise RuntimeError("bad echo")
            done += 1
            if sent < count:
                if not sent & 1023 and time.perf_counter() > deadline:
                    count = sent  # stop sending; drain what is in flight
                else:
                    await send(PAYLOAD)
                    sent += 1
        return done

    await loop(WARMUP)
    start = _start_timing()
    return _stop_timing(await loop(n), start)


async def _aiohttp_like(mod: Any, url: str, workload: str, n: int, window: int) -> Result:
    """aiohttp's API; zurl's `client` is the same API."""
    async with mod.ClientSession() as session, session.ws_connect(url, compress=0) as ws:

        async def recv() -> Any:
            return (await ws.receive()).data

        result = await _drive(ws.send_str, recv, workload, n, window)
        await ws.close()
        return result


async def _websockets(url: str, workload: str, n: int, window: int) -> Result:
    from websockets.asyncio.client import connect

    async with connect(
        url, compression=None, proxy=None, ping_interval=None, max_queue=max(16, 2 * window)
    ) as ws:
        return await _drive(ws.send, ws.recv, workload, n, window)


# ---------------------------------------------------------------- floors (subprocess)
# Not clients: references for what a workload allows at all, so that a target can be
# checked against them. Each sends the FLOOR_FRAME bytes built once and expects FLOOR_ECHO
# back, with the warm-up, TIME_CAP and figures of `_drive`.


def _floor_connect(url: str) -> socket.socket:
    """A blocking TCP_NODELAY socket through a hand-written opening handshake (RFC 6455 §4),
    read up to the blank line after the 101 response's head."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    key = base64.b64encode(os.urandom(16))
    sock.sendall(
        b"GET "
        + (parts.path or "/").encode()
        + b" HTTP/1.1\r\nHost: "
        + parts.netloc.encode()
        + b"\r\nUpgrade: websocket\r\nConnection: Upgrade"
        b"\r\nSec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        more = sock.recv(4096)
        if not more:
            raise ConnectionError("connection closed during the handshake")
        head += more
    status, *lines = head[: head.index(b"\r\n\r\n")].split(b"\r\n")
    fields = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(b":") for line in lines)
    }
    if status.split(b" ")[1:2] != [b"101"] or fields.get(
        b"sec-websocket-accept"
    ) != base64.b64encode(hashlib.sha1(key + GUID).digest()):
        raise RuntimeError(f"handshake refused: {status.decode(errors='replace')}")
    if not head.endswith(b"\r\n\r\n"):  # the server says nothing before the first echo
        raise RuntimeError("bytes after the handshake response")
    return sock


def _send_more(
    send: Callable[[bytes], object], echoes: int, sent: int, count: int, deadline: float
) -> tuple[int, int]:
    """pipe, for `echoes` echoes just counted: one more message sent for each until `count`
    are sent, none past the deadline (as in `_drive`): the new (sent, count)."""
    for _ in range(echoes):
        if sent >= count:
            break
        if not sent & 1023 and time.perf_counter() > deadline:
            return sent, sent  # stop sending; drain what is in flight
        send(FLOOR_FRAME)
        sent += 1
    return sent, count


def _floor_socket(url: str, workload: str, n: int, window: int) -> Result:
    """floor-socket: a blocking socket, no event loop, no framing code: the least any
    Python client can spend per message."""
    sock = _floor_connect(url)
    send, recv, recv_into = sock.sendall, sock.recv, sock.recv_into
    buf = bytearray(FLOOR_READ)

    def loop(count: int) -> int:
        deadline = time.perf_counter() + TIME_CAP
        if workload == "seq":
            for i in range(count):
                send(FLOOR_FRAME)
                echo = recv(ECHO_SIZE)
                while len(echo) < ECHO_SIZE:  # the echo split by TCP
                    more = recv(ECHO_SIZE - len(echo))
                    if not more:
                        raise ConnectionError("connection closed")
                    echo += more
                if echo != FLOOR_ECHO:
                    raise RuntimeError("bad echo")
                if not i & 1023 and time.perf_counter() > deadline:
                    return i + 1
            return count
        sent = min(window, count)
        for _ in range(sent):
            send(FLOOR_FRAME)
        done = partial = 0  # partial: bytes of the next echo already read
        while done < sent:
            got = recv_into(buf)
            if not got:
                raise ConnectionError("connection closed")
            echoes, partial = divmod(partial + got, ECHO_SIZE)
            done += echoes
            sent, count = _send_more(send, echoes, sent, count, deadline)
        return done

    with sock:
        loop(WARMUP)
        start = _start_timing()
        return _stop_timing(loop(n), start)


class _EchoCounter(asyncio.Protocol):
    """floor-asyncio's protocol: counts whole echoes by their bytes (each is ECHO_SIZE long)
    and parses nothing; a future per echo awaited."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.partial = 0  # bytes of the next echo already in, kept across reads
        self.ready = 0  # whole echoes in and not taken yet
        self.waiter: asyncio.Future[None] | None = None
        self.lost: BaseException | None = None

    def arrival(self) -> asyncio.Future[None]:
        """A future done when the next whole echo is in."""
        if self.lost:
            raise self.lost
        self.waiter = self.loop.create_future()
        return self.waiter

    def data_received(self, data: bytes) -> None:
        echoes, self.partial = divmod(self.partial + len(data), ECHO_SIZE)
        if echoes:
            self.ready += echoes
            if self.waiter is not None:
                self.waiter.set_result(None)
                self.waiter = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc or ConnectionError("connection closed")
        if self.waiter is not None:
            self.waiter.set_exception(self.lost)
            self.waiter = None


async def _floor_asyncio(url: str, workload: str, n: int, window: int) -> Result:
    """floor-asyncio: the least an asyncio client can do per message: one transport.write,
    the selector loop's read, a count, a future to wake the awaiting coroutine."""
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_connection(
        lambda: _EchoCounter(loop), sock=_floor_connect(url)
    )
    # asyncio's socket transport reads into a fresh bytes object of its max_size, 256 KiB by
    # default: glibc mmaps that, mremaps it down to the bytes read and munmaps it when freed,
    # three system calls per read. zurl's engine lowers it the same way (client/connection.py).
    transport.max_size = FLOOR_READ  # type: ignore[attr-defined]
    write = transport.write

    async def run(count: int) -> int:
        deadline = time.perf_counter() + TIME_CAP
        if workload == "seq":
            for i in range(count):
                write(FLOOR_FRAME)
                if not proto.ready:
                    await proto.arrival()
                proto.ready -= 1
                if not i & 1023 and time.perf_counter() > deadline:
                    return i + 1
            return count
        sent = min(window, count)
        for _ in range(sent):
            write(FLOOR_FRAME)
        done = 0
        while done < sent:
            if not proto.ready:
                await proto.arrival()
            echoes, proto.ready = proto.ready, 0
            done += echoes
            sent, count = _send_more(write, echoes, sent, count, deadline)
        return done

    try:
        await run(WARMUP)
        start = _start_timing()
        return _stop_timing(await run(n), start)
    finally:
        transport.close()


def run_worker(client: str, url: str, workload: str, n: int, window: int) -> Result:
    if client == "floor-socket":
        return _floor_socket(url, workload, n, window)
    if client == "floor-asyncio":
        return asyncio.run(_floor_asyncio(url, workload, n, window))
    if client == "websockets":
        return asyncio.run(_websockets(url, workload, n, window))
    if client == "zurl":
        import client as mod
    else:
        import aiohttp as mod
    return asyncio.run(_aiohttp_like(mod, url, workload, n, window))


# ---------------------------------------------------------------- parent side


def cpus() -> tuple[set[int] | None, set[int] | None]:
    """(server's core, clients' cores); None, None when there is one core only."""
    mine = sorted(os.sched_getaffinity(0))
    if len(mine) < 2:
        return None, None
    return {mine[-1]}, set(mine[:-1])


def cpu_seconds(pid: int) -> float:
    """user + system CPU time of a process so far, from /proc (clock-tick resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def echo_server(py: str, kind: str, core: set[int] | None) -> Iterator[tuple[str, int]]:
    """The server subprocess pinned to `core`: (ws:// URL, pid)."""
    proc = subprocess.Popen(
        [py, __file__, "--serve", kind], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        if core:
            os.sched_setaffinity(proc.pid, core)
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"ws://127.0.0.1:{port}/echo", proc.pid
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def python_for_workers() -> str:
    return str(PEERS_PY) if PEERS_PY.exists() else sys.executable


def available(py: str, client: str, env: dict[str, str]) -> str | None:
    """None when the client imports with a ws_connect, else why not."""
    if client in FLOORS:  # the standard library only
        return None
    probe = {
        "zurl": "import client; client.ClientSession.ws_connect",
        "aiohttp": "import aiohttp; aiohttp.ClientSession.ws_connect",
        "websockets": "import websockets.asyncio.client",
    }[client]
    done = subprocess.run(
        [py, "-P", "-c", probe], capture_output=True, text=True, timeout=60, env=env
    )
    if done.returncode == 0:
        return None
    return (done.stderr.strip().splitlines() or ["import failed"])[-1]


def worker_cmd(
    py: str, client: str, url: str, workload: str, args: argparse.Namespace
) -> list[str]:
    return [
        py,
        __file__,
        "--worker",
        client,
        "--url",
        url,
        "--workload",
        workload,
        "--n",
        str(args.n),
        "--window",
        str(args.window),
        "--time-cap",
        str(args.time_cap),
    ]


def run_cell(
    py: str,
    client: str,
    url: str,
    server_pid: int,
    workload: str,
    args: argparse.Namespace,
    env: dict[str, str],
    cores: set[int] | None,
) -> tuple[float, float, float, float, int]:
    """(msg/s, client CPU µs/msg, of which user mode, server CPU µs/msg, messages timed) of
    one fresh subprocess."""
    server_before = cpu_seconds(server_pid)
    done = subprocess.run(
        worker_cmd(py, client, url, workload, args),
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT,
        env=env,
        preexec_fn=(lambda: os.sched_setaffinity(0, cores)) if cores else None,
    )
    server_cpu = cpu_seconds(server_pid) - server_before
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr else "failed")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    made = result["done"]
    return (
        made / result["seconds"],
        1e6 * result["cpu"] / made,
        1e6 * result["user"] / made,
        1e6 * server_cpu / (made + WARMUP),
        made,
    )


def bench(
    args: argparse.Namespace,
    py: str,
    url: str,
    server_pid: int,
    env: dict[str, str],
    cores: set[int] | None,
) -> None:
    clients = list(args.clients)
    unavailable: dict[str, str] = {}
    for client in list(clients):
        if why := available(py, client, env):
            unavailable[client] = why
            clients.remove(client)
    rate: dict[tuple[str, str], dict[int, float]] = {}  # (client, workload) -> round -> msg/s
    cpu: dict[tuple[str, str], list[float]] = {}  # client CPU µs per message of each run
    user: dict[tuple[str, str], list[float]] = {}  # the user-mode part of it
    server: dict[tuple[str, str], list[float]] = {}  # server CPU µs per message
    for rnd in range(args.rounds):
        order = clients[rnd % len(clients) :] + clients[: rnd % len(clients)]
        for workload in args.workloads:
            for client in order:
                try:
                    mps, cpu_us, user_us, srv_us, made = run_cell(
                        py, client, url, server_pid, workload, args, env, cores
                    )
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    unavailable.setdefault(client, f"failed: {exc}")
                    continue
                rate.setdefault((client, workload), {})[rnd] = mps
                cpu.setdefault((client, workload), []).append(cpu_us)
                user.setdefault((client, workload), []).append(user_us)
                server.setdefault((client, workload), []).append(srv_us)
                print(
                    f"round {rnd + 1}/{args.rounds} {workload:4} {client:13} {mps:8.0f} msg/s "
                    f"{cpu_us:5.1f} CPU µs/msg, user {user_us:4.1f} (server {srv_us:4.1f}; "
                    f"{made} messages)",
                    file=sys.stderr,
                    flush=True,
                )
    report(args, rate, cpu, user, server, unavailable)


def paired(mine: dict[int, float], peer: dict[int, float]) -> float:
    """Median of the per-round ratios mine/peer, over the rounds both ran in."""
    return statistics.median(mine[r] / peer[r] for r in mine.keys() & peer.keys())


def report(
    args: argparse.Namespace,
    rate: dict[tuple[str, str], dict[int, float]],
    cpu: dict[tuple[str, str], list[float]],
    user: dict[tuple[str, str], list[float]],
    server: dict[tuple[str, str], list[float]],
    unavailable: dict[str, str],
) -> None:
    med = {key: statistics.median(vals.values()) for key, vals in rate.items()}
    wl = args.workloads
    print(
        f"\nws: median messages/s over {args.rounds} rounds; {args.n} x {len(PAYLOAD)}-byte "
        f"text echoes, seq = one at a time, pipe = {args.window} in flight; "
        f"server: {args.server}; {describe(args.rev)}"
    )
    print(
        f"{'client':14}"
        + "".join(f"{w + ' msg/s':>12}" for w in wl)
        + "   CPU µs/msg:"
        + "".join(f"{w:>6}" for w in wl)
        + "   user:"
        + "".join(f"{w:>6}" for w in wl)
        + "   server µs/msg:"
        + "".join(f"{w:>6}" for w in wl)
    )

    def cell(table: dict[tuple[str, str], Any], key: tuple[str, str], width: int, fmt: str) -> str:
        if key not in table:
            return f"{'n/a':>{width}}"
        vals = table[key]
        value = statistics.median(vals.values() if isinstance(vals, dict) else vals)
        return f"{value:{width}{fmt}}"

    # the floors below the clients, whatever the order given
    for client in sorted(args.clients, key=lambda name: name in FLOORS):
        print(
            f"{client:14}"
            + "".join(cell(rate, (client, w), 12, ".0f") for w in wl)
            + " " * 14
            + "".join(cell(cpu, (client, w), 6, ".1f") for w in wl)
            + " " * 8
            + "".join(cell(user, (client, w), 6, ".1f") for w in wl)
            + " " * 17
            + "".join(cell(server, (client, w), 6, ".1f") for w in wl)
        )
    for client, why in unavailable.items():
        print(f"  {client}: not available ({why})")
    for peer in ("aiohttp", "websockets"):
        cells = []
        for w in wl:
            if ("zurl", w) in med and (peer, w) in med:
                ratio = med[("zurl", w)] / med[(peer, w)]
                verdict = ""
                if peer in TARGETS:
                    verdict = " ok  " if ratio >= TARGETS[peer] else " MISS"
                cells.append(
                    f"{w} {ratio:5.2f}x{verdict} "
                    f"({paired(rate[('zurl', w)], rate[(peer, w)]):.2f}x)"
                )
        target = f"   (target >= {TARGETS[peer]}x)" if peer in TARGETS else ""
        if cells:
            print(f"zurl/{peer:10} {'   '.join(cells)}{target}")
    for w in wl:  # what a target over aiohttp asks, next to what any client could reach
        cells = [
            f"{floor}/aiohttp {med[(floor, w)] / med[('aiohttp', w)]:.2f}x "
            f"({paired(rate[(floor, w)], rate[('aiohttp', w)]):.2f}x)"
            for floor in FLOORS
            if (floor, w) in med and ("aiohttp", w) in med
        ]
        if cells:
            print(f"floors: {w} {', '.join(cells)}")
    print("ratios: of the medians; in brackets the median of per-round ratios")
    for peer in ("aiohttp", "websockets"):
        cells = [
            f"{w} {statistics.median(cpu[(peer, w)]) / mine:.2f}x"
            for w in wl
            if ("zurl", w) in cpu and (peer, w) in cpu
            for mine in [statistics.median(cpu[("zurl", w)])]
        ]
        if cells:
            print(f"by CPU time per message, {peer}/zurl: {', '.join(cells)}")


def profile(
    args: argparse.Namespace, py: str, url: str, env: dict[str, str], cores: set[int] | None
) -> None:
    """Run one client's workloads in a subprocess under cProfile; print the hot functions."""
    for workload in args.workloads:
        cmd = [*worker_cmd(py, args.profile, url, workload, args), "--profile"]
        subprocess.run(
            cmd,
            timeout=WORKER_TIMEOUT * 3,
            check=False,
            env=env,
            preexec_fn=(lambda: os.sched_setaffinity(0, cores)) if cores else None,
        )


def main() -> None:
    global PROFILER, TIME_CAP
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", type=int, default=100_000, help="messages per timed loop")
    parser.add_argument("--window", type=int, default=64, help="messages in flight in pipe")
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument(
        "--time-cap",
        type=float,
        default=TIME_CAP,
        help="seconds after which a timed loop stops early (rate still valid)",
    )
    parser.add_argument(
        "--clients",
        nargs="+",
        choices=CLIENTS + FLOORS,
        default=list(CLIENTS + FLOORS),
        help="floor-* are references, below the clients and in no verdict",
    )
    parser.add_argument(
        "--server",
        choices=("echo", "websockets"),
        default="echo",
        help="echo: the minimal server here (default); websockets: the library",
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="zurl",
        choices=CLIENTS + FLOORS,
        help="profile a client's workloads (default zurl; top 25 by tottime)",
    )
    parser.add_argument("--rev", help="measure this git revision (default: the working tree)")
    parser.add_argument("--serve", choices=("echo", "websockets"), help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=CLIENTS + FLOORS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--workload", choices=WORKLOADS, help=argparse.SUPPRESS)
    args = parser.parse_args()

    TIME_CAP = args.time_cap
    if args.serve:  # subprocess: the echo server
        serve(args.serve)
        return
    if args.worker:  # subprocess: one client, one workload, one JSON line out
        if args.profile:
            PROFILER = cProfile.Profile()
        made, seconds, cpu, user = run_worker(
            args.worker, args.url, args.workload, args.n, args.window
        )
        if PROFILER:
            print(f"\n{args.workload}: {made / seconds:.0f} msg/s under the profiler")
            print_profile(PROFILER, f"{args.worker} {args.workload}, timed loop of {made} echoes")
            return
        print(json.dumps({"done": made, "seconds": seconds, "cpu": cpu, "user": user}))
        return
    py = python_for_workers()
    server_core, client_cores = cpus()
    with snapshot(args.rev) as tree, echo_server(py, args.server, server_core) as (url, pid):
        env = worker_env(tree)
        if args.profile:
            args.time_cap *= 4
            profile(args, py, url, env, client_cores)
        else:
            bench(args, py, url, pid, env, client_cores)


if __name__ == "__main__":
    main()
