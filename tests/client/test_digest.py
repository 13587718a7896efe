"""DigestAuthMiddleware against httpbin and scripted raw servers: challenges, answers, reuse."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

import client
from client.client_request import ClientRequest
from client.digest import ALGORITHMS, DigestAuthMiddleware
from client.middlewares import ClientHandlerType, ClientMiddlewareType
from client.response import ClientResponse
from client.wwwauth import parse_challenges
from tests.servers import skip_or_fail
from tests.servers.proxy import ProxyServer
from tests.servers.raw import Handler, RawConnection, RawServerFactory, parse_head

pytestmark = pytest.mark.timeout(30)


# -- helpers ----------------------------------------------------------------------------------


@dataclass
class Sent:
    """What one middleware-level send put on the wire, and the status it got."""

    method: str
    url: URL
    authorization: str | None
    status: int = 0


class Recorder:
    """A middleware placed inside the digest one: it sees every send, retries included."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []

    async def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        sent = Sent(request.method, request.url, request.headers.get("Authorization"))
        self.sent.append(sent)
        response = await handler(request)
        sent.status = response.status
        return response

    @property
    def statuses(self) -> list[int]:
        return [sent.status for sent in self.sent]


def cookie_relay(jar: client.CookieJar) -> ClientMiddlewareType:
    """Cookies applied per send, for httpbin, whose stale=true logic rides on cookies.

    The session reads Set-Cookie from a hop's final response and builds Cookie once per
    hop, so cookies a 401 sets would not reach the retry without this.
    """

    async def relay(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        cookies = jar.filter_cookies(request.url)
        if cookies:
            request.headers["Cookie"] = "; ".join(f"{k}={m.value}" for k, m in cookies.items())
        response = await handler(request)
        jar.update_cookies_from_headers(
            list(response.headers.getall("Set-Cookie", ())), response.url
        )
        return response

    return relay


def credentials(authorization: str) -> dict[str, str]:
    """The fields of ``Digest k=v, k="v"`` (an independent parser, not the one under test)."""
    scheme, _, rest = authorization.partition(" ")
    assert scheme == "Digest"
    fields = {}
    for name, value in re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|[^,\s]+)', rest):
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        fields[name] = value
    return fields


HASHLIB = {"MD5": "md5", "SHA-256": "sha256", "SHA-512": "sha512", "SHA-512-256": "sha512_256"}


def expected_response(
    fields: dict[str, str],
    password: str,
    method: str,
    body: bytes = b"",
    user: str | None = None,
) -> str:
    """RFC 7616 §3.4.1 computed from the fields the client sent."""
    algorithm = fields.get("algorithm", "MD5").upper()
    sess = algorithm.endswith("-SESS")
    name = HASHLIB[algorithm.removesuffix("-SESS")]

    def h(data: str | bytes) -> str:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        return hashlib.new(name, raw).hexdigest()

    username = fields["username"] if user is None else user
    ha1 = h(f"{username}:{fields['realm']}:{password}")
    if sess:
        ha1 = h(f"{ha1}:{fields['nonce']}:{fields['cnonce']}")
    qop = fields.get("qop")
    a2 = f"{method}:{fields['uri']}"
    if qop == "auth-int":
        a2 += ":" + h(body)
    if qop is None:
        return h(f"{ha1}:{fields['nonce']}:{h(a2)}")
    return h(f"{ha1}:{fields['nonce']}:{fields['nc']}:{fields['cnonce']}:{qop}:{h(a2)}")


@dataclass
class Request:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def reply(status: int, headers: Sequence[tuple[str, str]] = (), body: bytes = b"") -> bytes:
    reason = {200: "OK", 302: "Found", 401: "Unauthorized"}.get(status, "X")
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers)]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def serve(answer: Callable[[Request], bytes], seen: list[Request]) -> Handler:
    """A keep-alive script: every request on every connection is recorded and answered."""

    async def handler(conn: RawConnection) -> None:
        while True:
            raw = await conn.read_request()
            if not raw:
                return
            head, _, body = raw.partition(b"\r\n\r\n")
            method, target, latin1 = parse_head(head + b"\r\n\r\n")
            # parse_head decodes latin-1; the client sends UTF-8 (non-ASCII usernames).
            headers = [(k, v.encode("latin-1").decode("utf-8")) for k, v in latin1]
            request = Request(method, target, headers, body)
            seen.append(request)
            conn.write(answer(request))

    return handler


def challenge(value: str) -> bytes:
    return reply(401, [("WWW-Authenticate", value)], b"no")


def guarded(
    password: str, *challenges: str, ok: bytes = b"ok", method_body: bool = False
) -> Callable[[Request], bytes]:
    """401 with ``challenges`` unless the Authorization verifies against ``password``."""

    def answer(request: Request) -> bytes:
        authorization = request.header("Authorization")
        if authorization is not None:
            fields = credentials(authorization)
            if fields["response"] == expected_response(
                fields, password, request.method, request.body
            ):
                return reply(200, body=ok)
        return reply(401, [("WWW-Authenticate", c) for c in challenges], b"denied")

    return answer


# -- httpbin --------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256", "SHA-512"])
async def test_httpbin_algorithms(httpbin: Any, algorithm: str) -> None:
    recorder = Recorder()
    digest = DigestAuthMiddleware("user", "passwd")
    url = f"{httpbin.url}/digest-auth/auth/user/passwd/{algorithm}"
    async with client.ClientSession(middlewares=(digest, recorder)) as session:
        async with session.get(url) as resp:
            assert resp.status == 200
            assert await resp.json() == {"authenticated": True, "user": "user"}
    assert recorder.statuses == [401, 200]
    fields = credentials(recorder.sent[1].authorization or "")
    assert fields["algorithm"] == algorithm
    assert fields["qop"] == "auth"
    assert fields["nc"] == "00000001"


async def test_httpbin_default_md5_path(httpbin: Any) -> None:
    digest = DigestAuthMiddleware("user", "passwd")
    async with client.ClientSession(middlewares=(digest,)) as session:
        async with session.get(httpbin.url + "/digest-auth/auth/user/passwd") as resp:
            assert resp.status == 200


async def test_httpbin_auth_int(httpbin: Any) -> None:
    # httpbin's digest routes are GET-only: auth-int hashes the empty body here.
    recorder = Recorder()
    digest = DigestAuthMiddleware("user", "passwd")
    url = f"{httpbin.url}/digest-auth/auth-int/user/passwd/MD5"
    async with client.ClientSession(middlewares=(digest, recorder)) as session:
        async with session.get(url) as resp:
            assert resp.status == 200
    assert credentials(recorder.sent[1].authorization or "")["qop"] == "auth-int"


async def test_httpbin_prefers_auth_int_when_both_offered(httpbin: Any) -> None:
    # Any qop segment but auth/auth-int makes httpbin offer qop="auth, auth-int"; the
    # stronger one wins when the body can be hashed (here the empty body of a GET).
    recorder = Recorder()
    digest = DigestAuthMiddleware("user", "passwd")
    async with client.ClientSession(middlewares=(digest, recorder)) as session:
        async with session.get(httpbin.url + "/digest-auth/any/user/passwd/SHA-256") as resp:
            assert resp.status == 200
    assert credentials(recorder.sent[1].authorization or "")["qop"] == "auth-int"


async def test_httpbin_wrong_password_retries_once(httpbin: Any) -> None:
    recorder = Recorder()
    digest = DigestAuthMiddleware("user", "wrong")
    async with client.ClientSession(middlewares=(digest, recorder)) as session:
        async with session.get(httpbin.url + "/digest-auth/auth/user/passwd") as resp:
            assert resp.status == 401
        # Nothing was stored: the next request waits for its own challenge again.
        async with session.get(httpbin.url + "/digest-auth/auth/user/passwd") as resp:
            assert resp.status == 401
    assert recorder.statuses == [401, 401, 401, 401]
    assert recorder.sent[0].authorization is None
    assert recorder.sent[2].authorization is None


async def test_httpbin_preemptive_reuse_saves_the_round_trip(httpbin: Any) -> None:
    recorder = Recorder()
    digest = DigestAuthMiddleware("user", "passwd")
    url = httpbin.url + "/digest-auth/auth/user/passwd/SHA-256"
    async with client.ClientSession(middlewares=(digest, recorder)) as session:
        for _ in range(3):
            async with session.get(url) as resp:
                assert resp.status == 200
    assert recorder.statuses == [401, 200, 200, 200]
    sent = [credentials(s.authorization or "") for s in recorder.sent[1:]]
    assert [f["nc"] for f in sent] == ["00000001", "00000002", "00000003"]
    assert len({f["nonce"] for f in sent}) == 1
    assert len({f["cnonce"] for f in sent}) == 3


async def test_httpbin_not_preemptive_waits_for_each_challenge(httpbin: Any) -> None:
    recorder = Recorder()
    digest = DigestAuthMiddleware("user", "passwd", preemptive=False)
    url = httpbin.url + "/digest-auth/auth/user/passwd"
    async with client.ClientSession(middlewares=(digest, recorder)) as session:
        for _ in range(2):
            async with session.get(url) as resp:
                assert resp.status == 200
    assert recorder.statuses == [401, 200, 401, 200]
    assert recorder.sent[2].authorization is None


async def test_httpbin_stale_nonce_is_renewed(httpbin: Any) -> None:
    # stale_after=1: the nonce works once, then httpbin answers 401 stale=TRUE.
    recorder = Recorder()
    jar = client.CookieJar(unsafe=True)
    digest = DigestAuthMiddleware("user", "passwd")
    url = httpbin.url + "/digest-auth/auth/user/passwd/MD5/1"
    middlewares = (digest, cookie_relay(jar), recorder)
    async with client.ClientSession(middlewares=middlewares, cookie_jar=jar) as session:
        async with session.get(url) as resp:
            assert resp.status == 200
        async with session.get(url) as resp:
            assert resp.status == 200
    assert recorder.statuses == [401, 200, 401, 200]
    first, preempted, renewed = (credentials(s.authorization or "") for s in recorder.sent[1:])
    assert preempted["nonce"] == first["nonce"]
    assert preempted["nc"] == "00000002"
    assert renewed["nonce"] != first["nonce"]
    assert renewed["nc"] == "00000001"


async def test_httpbin_always_stale_stops_after_one_renewal(httpbin: Any) -> None:
    # stale_after=0: every answer is refused as stale; two answers, then the 401 comes back.
    recorder = Recorder()
    jar = client.CookieJar(unsafe=True)
    digest = DigestAuthMiddleware("user", "passwd")
    url = httpbin.url + "/digest-auth/auth/user/passwd/MD5/0"
    middlewares = (digest, cookie_relay(jar), recorder)
    async with client.ClientSession(middlewares=middlewares, cookie_jar=jar) as session:
        async with session.get(url) as resp:
            assert resp.status == 401
            [(scheme, params)] = parse_challenges(resp.headers.getall("WWW-Authenticate"))
            assert (scheme, params["stale"].lower()) == ("digest", "true")
    assert recorder.statuses == [401, 401, 401]


# -- raw servers: the exact answer ------------------------------------------------------------


async def test_several_schemes_in_one_header_exact_answer(raw_server: RawServerFactory) -> None:
    seen: list[Request] = []
    offer = 'Basic realm="x", Digest realm="r", nonce="n", qop="auth,auth-int", algorithm=SHA-256'
    server = await raw_server(serve(guarded("pw", offer), seen))
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        async with session.get(server.url + "/p/a%20th?q=1&r=2") as resp:
            assert resp.status == 200
            assert await resp.read() == b"ok"
    assert len(seen) == 2
    assert seen[0].header("Authorization") is None
    sent = seen[1].header("Authorization") or ""
    cnonce = credentials(sent)["cnonce"]
    assert re.fullmatch(r"[0-9a-f]{32}", cnonce)
    h = hashlib.sha256
    ha1 = h(b"u:r:pw").hexdigest()
    # Both qops offered and the (empty) body at hand: auth-int, the stronger one.
    ha2 = h(b"GET:/p/a%20th?q=1&r=2:" + h(b"").hexdigest().encode()).hexdigest()
    response = h(f"{ha1}:n:00000001:{cnonce}:auth-int:{ha2}".encode()).hexdigest()
    assert sent == (
        'Digest username="u", realm="r", nonce="n", uri="/p/a%20th?q=1&r=2", '
        f'algorithm=SHA-256, response="{response}", qop=auth-int, nc=00000001, '
        f'cnonce="{cnonce}"'
    )
    # The 401 body was small and framed: the retry went on the same connection.
    assert server.connections_opened == 1


async def test_slow_401_body_is_read_so_the_retry_reuses_the_connection(
    raw_server: RawServerFactory,
) -> None:
    async def script(conn: RawConnection) -> None:
        await conn.read_request()
        conn.write(
            b"HTTP/1.1 401 Unauthorized\r\n"
            b'WWW-Authenticate: Digest realm="r", nonce="n", qop="auth"\r\n'
            b"Content-Length: 6\r\n\r\n"
        )
        await conn.sleep(0.1)  # the body comes after the head has been handed over
        conn.write(b"denied")
        if await conn.read_request():
            conn.write(reply(200))

    server = await raw_server(script)
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        async with session.get(server.url + "/") as resp:
            assert resp.status == 200
    assert server.connections_opened == 1


async def test_digest_on_its_own_field_line_with_escapes(raw_server: RawServerFactory) -> None:
    seen: list[Request] = []

    def answer(request: Request) -> bytes:
        if request.header("Authorization") is None:
            return (
                b"HTTP/1.1 401 Unauthorized\r\n"
                b"WWW-Authenticate: Negotiate abc==\r\n"
                b'WWW-Authenticate: digest REALM="a \\"quoted\\" realm, yes", '
                b'nonce="x,y=z", opaque="o\\\\p", QOP="auth"\r\n'
                b"Content-Length: 0\r\n\r\n"
            )
        return reply(200)

    server = await raw_server(serve(answer, seen))
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        async with session.get(server.url + "/") as resp:
            assert resp.status == 200
    fields = credentials(seen[1].header("Authorization") or "")
    assert fields["realm"] == 'a "quoted" realm, yes'
    assert fields["nonce"] == "x,y=z"
    assert fields["opaque"] == "o\\p"
    assert fields["algorithm"] == "MD5"  # the default when the challenge names none
    assert fields["response"] == expected_response(fields, "pw", "GET")


@pytest.mark.parametrize(
    "algorithm", ["MD5", "MD5-sess", "SHA-256-sess", "SHA-512", "SHA-512-256", "SHA-512-256-sess"]
)
async def test_raw_algorithms_verify(raw_server: RawServerFactory, algorithm: str) -> None:
    if algorithm.upper() not in ALGORITHMS:
        skip_or_fail(f"{algorithm} not in this OpenSSL")
    seen: list[Request] = []
    offer = f'Digest realm="r", nonce="n1", qop="auth", algorithm={algorithm}'
    server = await raw_server(serve(guarded("pw", offer), seen))
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        for _ in range(2):
            async with session.get(server.url + "/x") as resp:
                assert resp.status == 200
    assert len(seen) == 3  # the second request was answered up front
    second, third = (credentials(r.header("Authorization") or "") for r in seen[1:])
    assert second["algorithm"] == third["algorithm"] == algorithm
    if algorithm.upper().endswith("-SESS"):
        # The session key H(A1) is fixed per nonce, so its cnonce is kept too.
        assert second["cnonce"] == third["cnonce"]


async def test_sha_is_sha1(raw_server: RawServerFactory) -> None:
    seen: list[Request] = []

    def answer(request: Request) -> bytes:
        authorization = request.header("Authorization")
        if authorization is None:
            return challenge('Digest realm="r", nonce="n", qop=auth, algorithm=SHA')
        f = credentials(authorization)

        def h(s: str) -> str:
            return hashlib.sha1(s.encode()).hexdigest()

        ha1, ha2 = h("u:r:pw"), h(f"GET:{f['uri']}")
        ok = f["response"] == h(f"{ha1}:n:{f['nc']}:{f['cnonce']}:auth:{ha2}")
        return reply(200 if ok else 403)

    server = await raw_server(serve(answer, seen))
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        async with session.get(server.url + "/") as resp:
            assert resp.status == 200


async def test_rfc2069_without_qop(raw_server: RawServerFactory) -> None:
    seen: list[Request] = []
    server = await raw_server(serve(guarded("pw", 'Digest realm="r", nonce="n"'), seen))
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        async with session.get(server.url + "/old") as resp:
            assert resp.status == 200
    fields = credentials(seen[1].header("Authorization") or "")
    assert "qop" not in fields
    assert "nc" not in fields
    assert "cnonce" not in fields


async def test_auth_int_post_hashes_the_body(raw_server: RawServerFactory) -> None:
    seen: list[Request] = []
    offer = 'Digest realm="r", nonce="n", qop="auth-int", algorithm=SHA-256'
    server = await raw_server(serve(guarded("pw", offer), seen))
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        async with session.post(server.url + "/up", data=b"payload bytes") as resp:
            assert resp.status == 200
    assert [r.body for r in seen] == [b"payload bytes", b"payload bytes"]
    fields = credentials(seen[1].header("Authorization") or "")
    assert fields["qop"] == "auth-int"
    assert fields["response"] == expected_response(fields, "pw", "POST", b"payload bytes")


@pytest.mark.parametrize("offer", ["auth-int", "auth,auth-int"])
@pytest.mark.parametrize("kind", ["file", "bytesio"])
async def test_auth_int_hashes_a_body_read_twice(
    raw_server: RawServerFactory, tmp_path: Path, offer: str, kind: str
) -> None:
    # Not in memory but replayable: hashed chunk by chunk, then sent again whole.
    seen: list[Request] = []
    server = await raw_server(
        serve(guarded("pw", f'Digest realm="r", nonce="n", qop="{offer}"'), seen)
    )
    content = bytes(range(256)) * 1200  # several chunks
    path = tmp_path / "body.bin"
    path.write_bytes(content)
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        with path.open("rb") if kind == "file" else io.BytesIO(content) as body:
            async with session.post(server.url + "/up", data=body) as resp:
                assert resp.status == 200
    assert [r.body for r in seen] == [content, content]
    fields = credentials(seen[1].header("Authorization") or "")
    assert fields["qop"] == "auth-int"
    assert fields["response"] == expected_response(fields, "pw", "POST", content)


async def test_utf8_credentials(raw_server: RawServerFactory) -> None:
    seen: list[Request] = []
    offer = 'Digest realm="r", nonce="n", qop="auth", charset=UTF-8'
    server = await raw_server(serve(guarded("pässwörd", offer), seen))
    digest = DigestAuthMiddleware("jürgen", "pässwörd")
    async with client.ClientSession(middlewares=(digest,)) as session:
        async with session.get(server.url + "/") as resp:
            assert resp.status == 200
    assert credentials(seen[1].header("Authorization") or "")["username"] == "jürgen"


# -- raw servers: when not to answer ----------------------------------------------------------


async def test_unknown_algorithm_is_client_error(raw_server: RawServerFactory) -> None:
    seen: list[Request] = []
    server = await raw_server(
        serve(guarded("pw", 'Digest realm="r", nonce="n", algorithm=SHA3-512'), seen)
    )
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        with pytest.raises(client.ClientError, match="Unsupported hash algorithm: SHA3-512"):
            await session.get(server.url + "/")
    assert len(seen) == 1


async def test_unknown_algorithm_skipped_for_a_known_one(raw_server: RawServerFactory) -> None:
    seen: list[Request] = []
    server = await raw_server(
        serve(
            guarded(
                "pw",
                'Digest realm="r", nonce="n", algorithm=SHA3-512',
                'Digest realm="r", nonce="n", algorithm=SHA-256, qop=auth',
            ),
            seen,
        )
    )
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        async with session.get(server.url + "/") as resp:
            assert resp.status == 200
    assert credentials(seen[1].header("Authorization") or "")["algorithm"] == "SHA-256"


async def test_unsupported_qop_is_client_error(raw_server: RawServerFactory) -> None:
    server = await raw_server(
        serve(guarded("pw", 'Digest realm="r", nonce="n", qop="auth-conf"'), [])
    )
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        with pytest.raises(client.ClientError, match="qop"):
            await session.get(server.url + "/")


async def test_basic_only_challenge_is_returned(raw_server: RawServerFactory) -> None:
    seen: list[Request] = []
    server = await raw_server(serve(lambda r: challenge('Basic realm="x"'), seen))
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        async with session.get(server.url + "/") as resp:
            assert resp.status == 401
            assert await resp.read() == b"no"
    assert len(seen) == 1


async def test_one_shot_body_gets_the_401_back(raw_server: RawServerFactory) -> None:
    seen: list[Request] = []
    server = await raw_server(serve(guarded("pw", 'Digest realm="r", nonce="n"'), seen))

    async def stream() -> AsyncIterator[bytes]:
        yield b"once "
        yield b"only"

    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        async with session.post(server.url + "/", data=stream()) as resp:
            assert resp.status == 401
            assert await resp.read() == b"denied"
    assert len(seen) == 1


async def test_stale_renewal_then_success(raw_server: RawServerFactory) -> None:
    seen: list[Request] = []

    def answer(request: Request) -> bytes:
        authorization = request.header("Authorization")
        if authorization is None:
            return challenge('Digest realm="r", nonce="old", qop="auth"')
        fields = credentials(authorization)
        assert fields["response"] == expected_response(fields, "pw", "GET")
        if fields["nonce"] == "old":
            return challenge('Digest realm="r", nonce="new", qop="auth", stale=true')
        return reply(200)

    server = await raw_server(serve(answer, seen))
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        async with session.get(server.url + "/") as resp:
            assert resp.status == 200
    sent = [credentials(r.header("Authorization") or "") for r in seen[1:]]
    assert [(f["nonce"], f["nc"]) for f in sent] == [("old", "00000001"), ("new", "00000001")]


async def test_second_401_without_stale_is_returned(raw_server: RawServerFactory) -> None:
    seen: list[Request] = []
    server = await raw_server(
        serve(lambda r: challenge('Digest realm="r", nonce="n", qop="auth", stale=false'), seen)
    )
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        async with session.get(server.url + "/") as resp:
            assert resp.status == 401
    assert len(seen) == 2


async def test_redirect_to_another_origin_carries_no_authorization(
    raw_server: RawServerFactory,
) -> None:
    other_seen: list[Request] = []
    other = await raw_server(
        serve(lambda r: challenge('Digest realm="r", nonce="evil", qop="auth"'), other_seen)
    )
    seen: list[Request] = []

    def answer(request: Request) -> bytes:
        authorization = request.header("Authorization")
        if authorization is None:
            return challenge('Digest realm="r", nonce="n", qop="auth"')
        if request.target == "/start":
            return reply(302, [("Location", f"{other.url}/landing")])
        return reply(200, body=request.target.encode())

    server = await raw_server(serve(answer, seen))
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        async with session.get(server.url + "/start") as resp:
            # The other origin's own challenge is not answered either: it was not asked for.
            assert resp.status == 401
            assert str(resp.url) == f"{other.url}/landing"
            assert [h.status for h in resp.history] == [302]
    assert len(seen) == 2
    assert len(other_seen) == 1
    assert other_seen[0].header("Authorization") is None


async def test_same_origin_redirect_is_answered_up_front(raw_server: RawServerFactory) -> None:
    seen: list[Request] = []

    def answer(request: Request) -> bytes:
        authorization = request.header("Authorization")
        if authorization is None:
            return challenge('Digest realm="r", nonce="n", qop="auth"')
        if request.target == "/start":
            return reply(302, [("Location", "/next")])
        return reply(200, body=b"next")

    server = await raw_server(serve(answer, seen))
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        async with session.get(server.url + "/start") as resp:
            assert resp.status == 200
            assert await resp.read() == b"next"
    assert [r.target for r in seen] == ["/start", "/start", "/next"]
    fields = credentials(seen[2].header("Authorization") or "")
    assert (fields["uri"], fields["nc"]) == ("/next", "00000002")
    assert fields["response"] == expected_response(fields, "pw", "GET")


async def test_domain_bounds_the_protection_space(raw_server: RawServerFactory) -> None:
    seen: list[Request] = []
    offer = 'Digest realm="r", nonce="n", qop="auth", domain="/api http://elsewhere.test/"'
    server = await raw_server(serve(guarded("pw", offer), seen))
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        for path in ("/api/a", "/api/b", "/web"):
            async with session.get(server.url + path) as resp:
                assert resp.status == 200
    targets = [(r.target, r.header("Authorization") is not None) for r in seen]
    assert targets == [
        ("/api/a", False),
        ("/api/a", True),
        ("/api/b", True),  # under /api: up front
        ("/web", False),  # outside the domain: wait for the challenge
        ("/web", True),
    ]
    # The same nonce challenged again: its count goes on rather than restarting.
    counts = [credentials(seen[i].header("Authorization") or "")["nc"] for i in (1, 2, 4)]
    assert counts == ["00000001", "00000002", "00000003"]


async def test_preemptive_answer_refused_falls_back_to_the_challenge(
    raw_server: RawServerFactory,
) -> None:
    seen: list[Request] = []
    nonces = iter(["n1", "n2"])
    current = {"nonce": ""}

    def answer(request: Request) -> bytes:
        authorization = request.header("Authorization")
        if authorization is not None and credentials(authorization)["nonce"] == current["nonce"]:
            return reply(200)
        # A server that forgot its nonces (a restart) and does not say stale.
        current["nonce"] = next(nonces)
        return challenge(f'Digest realm="r", nonce="{current["nonce"]}", qop="auth"')

    server = await raw_server(serve(answer, seen))
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        async with session.get(server.url + "/") as resp:
            assert resp.status == 200
        current["nonce"] = "forgotten"
        async with session.get(server.url + "/") as resp:
            assert resp.status == 200
    nonces_sent = [
        credentials(r.header("Authorization") or "")["nonce"]
        if r.header("Authorization")
        else None
        for r in seen
    ]
    assert nonces_sent == [None, "n1", "n1", "n2"]


async def test_per_request_middleware(raw_server: RawServerFactory) -> None:
    server = await raw_server(serve(guarded("pw", 'Digest realm="r", nonce="n"'), []))
    async with client.ClientSession() as session:
        async with session.get(
            server.url + "/", middlewares=(DigestAuthMiddleware("u", "pw"),)
        ) as resp:
            assert resp.status == 200
        async with session.get(server.url + "/") as resp:
            assert resp.status == 401


# -- malformed challenges and protection spaces (aiohttp 3.14's semantics) --------------------


@pytest.mark.parametrize(
    "offer", ["Digest", "Digest ", "Digest =invalid, format", "Digest foo=bar", "DigestX realm=r"]
)
async def test_digest_without_parameters_is_no_challenge(
    raw_server: RawServerFactory, offer: str
) -> None:
    seen: list[Request] = []
    server = await raw_server(serve(lambda r: challenge(offer), seen))
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        async with session.get(server.url + "/") as resp:
            assert resp.status == 401
            assert await resp.read() == b"no"
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("offer", "message"),
    [
        ('Digest realm="r", qop="auth"', "Missing 'nonce' parameter"),
        ('Digest nonce="n", qop="auth"', "Missing 'realm' parameter"),
        ('Digest realm="r", nonce="", qop="auth"', "empty 'nonce' value"),
    ],
)
async def test_malformed_challenge_is_client_error(
    raw_server: RawServerFactory, offer: str, message: str
) -> None:
    seen: list[Request] = []
    server = await raw_server(serve(lambda r: challenge(offer), seen))
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        with pytest.raises(client.ClientError, match=message):
            await session.get(server.url + "/")
    assert len(seen) == 1  # nothing was sent with a guessed answer


async def test_challenge_without_nonce_skipped_for_a_usable_one(
    raw_server: RawServerFactory,
) -> None:
    seen: list[Request] = []
    offers = ('Digest realm="r", qop="auth"', 'Digest realm="r", nonce="n2", qop="auth"')
    server = await raw_server(serve(guarded("pw", *offers), seen))
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        async with session.get(server.url + "/") as resp:
            assert resp.status == 200
    assert credentials(seen[1].header("Authorization") or "")["nonce"] == "n2"


@pytest.mark.parametrize("domain", ['"\\""', '"'])
async def test_domain_of_only_a_quote_means_the_whole_origin(
    raw_server: RawServerFactory, domain: str
) -> None:
    seen: list[Request] = []
    offer = f'Digest realm="r", nonce="n", qop="auth", domain={domain}'
    server = await raw_server(serve(guarded("pw", offer), seen))
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        for path in ("/one", "/two/x"):
            async with session.get(server.url + path) as resp:
                assert resp.status == 200
    # The second path went with the answer up front: the space is the origin.
    assert [(r.target, r.header("Authorization") is not None) for r in seen] == [
        ("/one", False),
        ("/one", True),
        ("/two/x", True),
    ]


async def test_domain_prefix_ends_at_a_path_segment(raw_server: RawServerFactory) -> None:
    seen: list[Request] = []
    offer = 'Digest realm="r", nonce="n", qop="auth", domain="/app"'
    server = await raw_server(serve(guarded("pw", offer), seen))
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        for path in ("/app", "/app?page=2", "/app/deep", "/apps"):
            async with session.get(server.url + path) as resp:
                assert resp.status == 200
    assert [(r.target, r.header("Authorization") is not None) for r in seen] == [
        ("/app", False),
        ("/app", True),
        ("/app?page=2", True),  # the query is no part of the space
        ("/app/deep", True),
        ("/apps", False),  # a longer name, not a path below /app
        ("/apps", True),
    ]


async def test_empty_opaque_is_returned(raw_server: RawServerFactory) -> None:
    seen: list[Request] = []
    offer = 'Digest realm="r", nonce="n", qop="auth", opaque=""'
    server = await raw_server(serve(guarded("pw", offer), seen))
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        async with session.get(server.url + "/") as resp:
            assert resp.status == 200
    assert 'opaque=""' in (seen[1].header("Authorization") or "")


async def test_one_shot_body_takes_auth_when_both_are_offered(
    raw_server: RawServerFactory,
) -> None:
    # Sent up front (the challenge was accepted before), a one-shot body cannot be hashed
    # ahead of sending it: auth it is.
    seen: list[Request] = []
    offer = 'Digest realm="r", nonce="n", qop="auth,auth-int"'
    server = await raw_server(serve(guarded("pw", offer), seen))

    async def stream() -> AsyncIterator[bytes]:
        yield b"once "
        yield b"only"

    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        async with session.get(server.url + "/") as resp:
            assert resp.status == 200
        async with session.post(server.url + "/up", data=stream()) as resp:
            assert resp.status == 200
    assert len(seen) == 3  # the upload went once, with the answer up front
    assert credentials(seen[1].header("Authorization") or "")["qop"] == "auth-int"
    assert credentials(seen[2].header("Authorization") or "")["qop"] == "auth"


async def test_digest_uri_is_origin_form_through_a_proxy(
    raw_server: RawServerFactory, proxy_server: ProxyServer
) -> None:
    # The proxy hands the server the origin-form target; the digest-uri must be that.
    seen: list[Request] = []
    server = await raw_server(serve(guarded("pw", 'Digest realm="r", nonce="n"'), seen))
    async with client.ClientSession(middlewares=(DigestAuthMiddleware("u", "pw"),)) as session:
        async with session.get(server.url + "/p?q=1", proxy=proxy_server.url) as resp:
            assert resp.status == 200
    assert seen[1].target == "/p?q=1"
    assert credentials(seen[1].header("Authorization") or "")["uri"] == "/p?q=1"


# -- construction and parsing -----------------------------------------------------------------


def test_login_validation() -> None:
    with pytest.raises(ValueError, match='A ":" is not allowed in username'):
        DigestAuthMiddleware("a:b", "pw")
    with pytest.raises(ValueError, match="login"):
        DigestAuthMiddleware(None, "pw")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="password"):
        DigestAuthMiddleware("u", None)  # type: ignore[arg-type]


def test_parse_challenges() -> None:
    lines = [
        'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
        "Negotiate abc+/==, Digest nonce=plain/token=, realm=",
        "Bearer",
    ]
    assert parse_challenges(lines) == [
        ("newauth", {"realm": "apps", "type": "1", "title": 'Login to "apps"'}),
        ("basic", {"realm": "simple"}),
        ("negotiate", {}),
        ("digest", {"nonce": "plain/token=", "realm": ""}),
        ("bearer", {}),
    ]


def test_parse_challenges_tolerates_junk() -> None:
    lines = ['=x, Digest realm="r", @@@, nonce="n", nonce="second", stale=TRUE, ,, qop="auth']
    assert parse_challenges(lines) == [
        ("digest", {"realm": "r", "nonce": "n", "stale": "TRUE", "qop": "auth"})
    ]
