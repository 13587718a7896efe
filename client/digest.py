"""HTTP Digest authentication as a client middleware (aiohttp 3.12's ``DigestAuthMiddleware``).

Rules:
- A 401 whose ``WWW-Authenticate`` lines hold a ``Digest`` challenge is answered by sending
  the request once more with ``Authorization: Digest ...`` (RFC 7616 §3.4), and only when
  the body can be sent again (``request.replayable``); otherwise the 401 is returned as is.
  Other schemes in the same field (Basic, Negotiate...) are ignored (RFC 9110 §11.6.1).
- Never a loop: one answer per request, plus one more only when the answer was refused
  with ``stale=true`` (the nonce expired, the credentials were right: RFC 7616 §3.3).
  Any other 401 after an answer goes back to the caller.
- Credentials go only to the origin the caller asked for: a redirect hop to another
  origin (RFC 6454 §5) is never answered and never gets a stored Authorization, like the
  session's own ``auth=`` (and curl without ``--location-trusted``).
- ``preemptive=True``: once a challenge was answered successfully, requests to the same
  protection space (its origin, and a path under one of its ``domain`` URIs if the server
  gave any: RFC 7616 §3.3, §3.6) carry the Authorization up front with the stored nonce
  and the next nonce count, saving the round trip.
- Hashes (RFC 7616 §3.4.1-3.4.3): MD5, SHA (SHA-1), SHA-256, SHA-512, SHA-512-256 and
  their ``-sess`` variants; no ``qop`` is the RFC 2069 form (RFC 2617 §3.2.2.1). Username
  and password are UTF-8 in the hashes (RFC 7616 §3.4.4); an unknown algorithm or qop is
  a ``ClientError``, not a silent 401.
- ``auth-int`` hashes the entity body as sent, so it needs the body in memory; ``auth``
  is preferred when both are offered, so a streamed upload still authenticates.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from yarl import URL

from .exceptions import ClientError
from .response import discard

if TYPE_CHECKING:
    from .client_request import ClientRequest
    from .middlewares import ClientHandlerType
    from .response import ClientResponse

__all__ = ["DigestAuthMiddleware", "parse_challenges"]

_UNAUTHORIZED = 401
# The most answers one request gets: the first challenge, then one stale=true renewal.
_MAX_ANSWERS = 2

Hasher = Callable[[bytes], str]
Origin = tuple[str, str | None, int | None]


def _hasher(name: str) -> Hasher | None:
    """Hex digest function for a hashlib name, or None if this OpenSSL lacks it."""
    if name not in hashlib.algorithms_available:
        return None

    def digest(data: bytes) -> str:
        return hashlib.new(name, data).hexdigest()

    return digest


def _algorithms() -> dict[str, Hasher]:
    # Names as RFC 7616 §6.1 registers them, plus the dashless spellings aiohttp accepts.
    names = {
        "MD5": "md5",
        "SHA": "sha1",
        "SHA-256": "sha256",
        "SHA256": "sha256",
        "SHA-512": "sha512",
        "SHA512": "sha512",
        "SHA-512-256": "sha512_256",
        "SHA512-256": "sha512_256",
    }
    table: dict[str, Hasher] = {}
    for name, hashlib_name in names.items():
        hasher = _hasher(hashlib_name)
        if hasher is not None:
            table[name] = table[name + "-SESS"] = hasher
    return table


ALGORITHMS = _algorithms()

# -- parsing WWW-Authenticate (RFC 9110 §11.2, §11.6.1) --------------------------------------

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)
# An unquoted value: a token by the grammar, but servers put '/', '=' or ':' in nonces.
_BARE_VALUE = re.compile(r'[^\s,"]+')
_OWS = " \t"


def parse_challenges(lines: Iterable[str]) -> list[tuple[str, dict[str, str]]]:
    """Every challenge in these field lines as (lower-cased scheme, params).

    Parameter names are lower-cased and quoted-string values unescaped; the first of a
    repeated parameter wins. A token68 (``Negotiate abc==``) is skipped; malformed
    elements are skipped up to the next comma.
    """
    challenges: list[tuple[str, dict[str, str]]] = []
    for line in lines:
        _parse_line(line, challenges)
    return challenges


def _parse_line(text: str, out: list[tuple[str, dict[str, str]]]) -> None:
    end = len(text)
    pos = 0
    params: dict[str, str] | None = None
    while True:
        while pos < end and (text[pos] in _OWS or text[pos] == ","):
            pos += 1
        if pos >= end:
            return
        match = _TOKEN.match(text, pos)
        if match is None:
            pos = _next_comma(text, pos)
            continue
        name = match.group()
        after = _skip_ows(text, match.end())
        if params is not None and after < end and text[after] == "=":
            value, pos = _param_value(text, _skip_ows(text, after + 1))
            if value is None:
                pos = _next_comma(text, pos)
            else:
                params.setdefault(name.lower(), value)
            continue
        # Not "name=value": a new challenge's scheme, maybe followed by a token68.
        params = {}
        out.append((name.lower(), params))
        pos = _skip_token68(text, after) if after > match.end() else after


def _param_value(text: str, pos: int) -> tuple[str | None, int]:
    """The value at ``pos`` (quoted-string or bare) and where it ends."""
    end = len(text)
    if pos >= end or text[pos] == ",":
        return "", pos  # "name=" with nothing: an empty value
    if text[pos] == '"':
        match = _QUOTED.match(text, pos)
        if match is None:  # unterminated: the rest of the line is the value
            return _UNESCAPE.sub(r"\1", text[pos + 1 :]), end
        return _UNESCAPE.sub(r"\1", match.group(1)), match.end()
    bare = _BARE_VALUE.match(text, pos)
    if bare is None:
        return None, pos
    return bare.group(), bare.end()


def _skip_token68(text: str, pos: int) -> int:
    """Past a token68 at ``pos`` if that is what stands there alone, else ``pos``."""
    match = _TOKEN68.match(text, pos)
    if match is None:
        return pos
    after = _skip_ows(text, match.end())
    # "realm=x" also matches the token68 pattern up to "="; a token68 ends the element.
    if after >= len(text) or text[after] == ",":
        return after
    return pos


def _skip_ows(text: str, pos: int) -> int:
    end = len(text)
    while pos < end and text[pos] in _OWS:
        pos += 1
    return pos


def _next_comma(text: str, pos: int) -> int:
    comma = text.find(",", pos)
    return len(text) if comma < 0 else comma + 1


# -- one challenge and the answers to it ------------------------------------------------------


def _origin(url: URL) -> Origin:
    return (url.scheme, url.raw_host, url.port)


def _quote(value: str) -> str:
    """``value`` as a quoted-string (RFC 9110 §5.6.4)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Challenge:
    """A server's Digest challenge for one protection space, and the nonce count so far."""

    __slots__ = (
        "algorithm",
        "cnonce",
        "domain",
        "ha1",
        "hash",
        "nc",
        "nonce",
        "opaque",
        "origin",
        "qop",
        "realm",
        "sess",
    )

    def __init__(
        self,
        params: dict[str, str],
        algorithm: str,
        hasher: Hasher,
        qop: str | None,
        origin: Origin,
        domain: tuple[str, ...] | None,
    ) -> None:
        self.realm = params.get("realm", "")
        self.nonce = params["nonce"]
        self.opaque = params.get("opaque")
        self.algorithm = algorithm  # echoed as the server spelled it
        self.hash = hasher
        self.sess = algorithm.upper().endswith("-SESS")
        self.qop = qop
        self.origin = origin
        self.domain = domain  # path prefixes on ``origin``; None: the whole origin
        self.nc = 0
        # -sess: H(A1) is the session key, computed once per nonce (RFC 2617 §3.2.2.2),
        # so its cnonce is kept for the nonce's later requests too.
        self.cnonce: str | None = None
        self.ha1: str | None = None

    def covers(self, url: URL) -> int:
        """How well this space covers ``url``: -1 not at all, else the matched prefix length."""
        if _origin(url) != self.origin:
            return -1
        if self.domain is None:
            return 0
        path = url.raw_path
        return max((len(p) for p in self.domain if path.startswith(p)), default=-1)

    def can_answer(self, request: ClientRequest) -> bool:
        return self.qop != "auth-int" or _entity_body(request) is not None


def _entity_body(request: ClientRequest) -> bytes | None:
    """The body as sent, for auth-int: empty without one, None if it is streamed."""
    body = request.body
    return b"" if body is None else body.in_memory()


def _choose_qop(offered: str | None) -> str | None:
    if offered is None or not offered.strip():
        return None  # RFC 2069: no qop, no cnonce, no nc
    options = {option.strip().lower() for option in offered.split(",")}
    if "auth" in options:
        return "auth"
    if "auth-int" in options:
        return "auth-int"
    raise ClientError(f"Digest auth: unsupported qop {offered!r} (supported: auth, auth-int)")


def _domain(value: str | None, url: URL) -> tuple[str, ...] | None:
    """The ``domain`` URIs on ``url``'s origin as path prefixes (RFC 7616 §3.3)."""
    if value is None or not value.strip():
        return None
    origin = _origin(url)
    prefixes: list[str] = []
    for item in value.split():
        try:
            target = url.join(URL(item))  # an abs-path is relative to the origin's root
        except ValueError:
            continue
        if _origin(target) == origin:  # other origins never get our credentials
            prefixes.append(target.raw_path or "/")
    return tuple(prefixes)


def _build(params: dict[str, str], url: URL) -> _Challenge:
    if "nonce" not in params:
        raise ClientError("Digest auth: malformed challenge, no nonce")
    algorithm = params.get("algorithm", "MD5")
    hasher = ALGORITHMS.get(algorithm.upper())
    if hasher is None:
        raise ClientError(
            f"Digest auth: unsupported algorithm {algorithm!r} "
            f"(supported: {', '.join(sorted(ALGORITHMS))})"
        )
    qop = _choose_qop(params.get("qop"))
    return _Challenge(
        params, algorithm, hasher, qop, _origin(url), _domain(params.get("domain"), url)
    )


class DigestAuthMiddleware:
    """Answer ``Digest`` challenges with ``login``/``password`` (see the module rules)."""

    def __init__(self, login: str, password: str, preemptive: bool = True) -> None:
        if login is None:
            raise ValueError("None is not allowed as login value")
        if password is None:
            raise ValueError("None is not allowed as password value")
        if ":" in login:
            # A1 = user:realm:password would be ambiguous; aiohttp refuses it too.
            raise ValueError('A ":" is not allowed in login')
        self._login = login.encode("utf-8")
        self._login_str = login
        self._password = password.encode("utf-8")
        self._preemptive = preemptive
        # Successfully answered challenges, per origin, per realm.
        self._spaces: dict[Origin, dict[str, _Challenge]] = {}

    async def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        used: _Challenge | None = None
        if self._preemptive and "Authorization" not in request.headers:
            used = self._stored_for(request)
            if used is not None:
                request.headers["Authorization"] = self._authorization(used, request)
        response = await handler(request)
        answers = 0
        preempted = used
        while response.status == _UNAUTHORIZED and request.replayable and answers < _MAX_ANSWERS:
            if not _asked_for(request, response):
                break
            try:
                found = self._challenge(response, request)
                if found is None or (answers and not found[1]):
                    break  # no Digest offered, or a refusal without stale: the caller's 401
                challenge = found[0]
                authorization = self._authorization(challenge, request)
            except BaseException:
                request.terminate()
                response.release()
                raise
            request.terminate()  # a streamed body still going out on the refused request
            await discard(response)
            request.headers["Authorization"] = authorization
            used = challenge
            answers += 1
            response = await handler(request)
        if used is not None:
            if response.status != _UNAUTHORIZED:
                self._remember(used)
            elif preempted is not None:
                self._forget(preempted)
        return response

    # -- protection spaces -----------------------------------------------------------------

    def _stored_for(self, request: ClientRequest) -> _Challenge | None:
        spaces = self._spaces.get(_origin(request.url))
        if not spaces:
            return None
        best: _Challenge | None = None
        best_score = -1
        for challenge in spaces.values():
            score = challenge.covers(request.url)
            if score > best_score:
                best, best_score = challenge, score
        if best is None or not best.can_answer(request):
            return None  # auth-int with a streamed body: wait for the 401 (then fail clearly)
        return best

    def _remember(self, challenge: _Challenge) -> None:
        if self._preemptive:
            self._spaces.setdefault(challenge.origin, {})[challenge.realm] = challenge

    def _forget(self, challenge: _Challenge) -> None:
        spaces = self._spaces.get(challenge.origin)
        if spaces is not None and spaces.get(challenge.realm) is challenge:
            del spaces[challenge.realm]

    def _challenge(
        self, response: ClientResponse, request: ClientRequest
    ) -> tuple[_Challenge, bool] | None:
        """The first usable Digest challenge of a 401 and its ``stale`` flag.

        A challenge with an unknown algorithm is skipped for a later one (RFC 2617 §3.2.1);
        if none is usable, the first one's error is raised.
        """
        lines = response.headers.getall("WWW-Authenticate", ())
        error: ClientError | None = None
        for scheme, params in parse_challenges(lines):
            if scheme != "digest":
                continue
            try:
                challenge = _build(params, request.url)
            except ClientError as exc:
                error = error or exc
                continue
            stale = params.get("stale", "").lower() == "true"
            stored = self._spaces.get(challenge.origin, {}).get(challenge.realm)
            if stored is not None and stored.nonce == challenge.nonce:
                challenge = stored  # the same nonce again: keep counting (RFC 7616 §3.4)
            if not challenge.can_answer(request):
                error = error or ClientError(
                    "Digest auth: the server asks for qop=auth-int, which hashes the body, "
                    "but the request body is streamed, not in memory"
                )
                continue
            return challenge, stale
        if error is not None:
            raise error
        return None

    # -- the answer (RFC 7616 §3.4) --------------------------------------------------------

    def _authorization(self, challenge: _Challenge, request: ClientRequest) -> str:
        h = challenge.hash
        challenge.nc += 1
        nc = f"{challenge.nc:08x}"
        nonce = challenge.nonce.encode("utf-8")
        realm = challenge.realm.encode("utf-8")
        cnonce = challenge.cnonce or secrets.token_hex(16)
        ha1 = challenge.ha1
        if ha1 is None:
            ha1 = h(b":".join((self._login, realm, self._password)))
            if challenge.sess:
                ha1 = h(b":".join((ha1.encode(), nonce, cnonce.encode())))
                challenge.ha1, challenge.cnonce = ha1, cnonce
        # The request-target as it goes on the wire (RFC 2617 §3.2.2.5: digest-uri).
        uri = request.request_target()
        a2 = b":".join((request.method.encode(), uri.encode("utf-8")))
        qop = challenge.qop
        if qop == "auth-int":
            body = _entity_body(request)
            if body is None:  # checked before choosing this challenge; a guard for mypy
                raise ClientError("Digest auth: qop=auth-int needs the body in memory")
            a2 += b":" + h(body).encode()
        ha2 = h(a2)
        if qop is None:
            response = h(b":".join((ha1.encode(), nonce, ha2.encode())))
        else:
            response = h(
                b":".join(
                    (ha1.encode(), nonce, nc.encode(), cnonce.encode(), qop.encode(), ha2.encode())
                )
            )
        fields = [
            f"username={_quote(self._login_str)}",
            f"realm={_quote(challenge.realm)}",
            f"nonce={_quote(challenge.nonce)}",
            f"uri={_quote(uri)}",
            f"algorithm={challenge.algorithm}",
            f"response={_quote(response)}",
        ]
        if challenge.opaque is not None:
            fields.append(f"opaque={_quote(challenge.opaque)}")
        if qop is not None:
            fields += [f"qop={qop}", f"nc={nc}", f"cnonce={_quote(cnonce)}"]
        elif challenge.sess:
            fields.append(f"cnonce={_quote(cnonce)}")  # H(A1) used it: the server needs it
        return "Digest " + ", ".join(fields)


def _asked_for(request: ClientRequest, response: ClientResponse) -> bool:
    """Whether this hop is on the origin the caller asked for (the chain's first request)."""
    history = response.history
    first = history[0].url if history else request.url
    return _origin(first) == _origin(request.url)
