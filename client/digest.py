"""HTTP Digest authentication as a client middleware (aiohttp 3.12's ``DigestAuthMiddleware``).

Rules:
- A 401 whose ``WWW-Authenticate`` lines hold a ``Digest`` challenge is answered by sending
  the request once more with ``Authorization: Digest ...`` (RFC 7616 §3.4), and only when
  the body can be sent again (``request.replayable``); otherwise the 401 is returned as is.
  Other schemes in the same field (Basic, Negotiate...) are ignored (RFC 9110 §11.6.1), and
  so is a ``Digest`` with no parameter at all. A challenge without ``realm`` or ``nonce``, or
  with an empty ``nonce``, is malformed: a ``ClientError``, not a guess.
- The state is aiohttp's: one current challenge (``_challenge``), its protection space
  (``_protection_space``, absolute URL prefixes), and the nonce count of the last nonce
  used (``_nonce_count``, ``_last_nonce_bytes``). ``_authenticate(response)`` takes the
  challenge from a 401, ``_encode(method, url, body)`` computes the answer to it, and
  ``_in_protection_space(url)`` tells whether an answer may go up front.
- Never a loop: one answer per request, plus one more only when the answer was refused
  with ``stale=true`` (the nonce expired, the credentials were right: RFC 7616 §3.3).
  Any other 401 after an answer goes back to the caller.
- Credentials go only to the origin the caller asked for: a redirect hop to another
  origin (RFC 6454 §5) is never answered, like the session's own ``auth=`` (and curl
  without ``--location-trusted``), and ``domain`` URIs on another origin are left out of
  the protection space.
- ``preemptive=True``: once a challenge was answered successfully, requests inside its
  protection space (its origin, or the URIs of its ``domain``: RFC 7616 §3.3, §3.6) carry
  the Authorization up front with the same nonce and the next nonce count. A challenge
  that was never answered successfully is never sent up front.
- Hashes (RFC 7616 §3.4.1-3.4.3): MD5, SHA (SHA-1), SHA-256, SHA-512, SHA-512-256 and
  their ``-sess`` variants, the algorithm echoed as the server spelled it; no ``qop`` is
  the RFC 2069 form (RFC 2617 §3.2.2.1). Username and password are UTF-8 in the hashes
  (RFC 7616 §3.4.4); an unknown algorithm or qop is a ``ClientError``, not a silent 401.
- ``auth-int`` (hashing the entity body as sent) is chosen when offered and the body can
  be hashed before it goes out: in memory, or a file or ``BytesIO`` that can be read twice
  (read once more, chunk by chunk). A one-shot stream gets ``auth`` when the server offers
  both, and a ``ClientError`` when it offers only ``auth-int``.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING, TypedDict, cast

from yarl import URL

from .exceptions import ClientError
from .response import discard
from .wwwauth import field_lines, parse_challenges

if TYPE_CHECKING:
    from .client_request import ClientRequest
    from .middlewares import ClientHandlerType
    from .payload import Payload
    from .response import ClientResponse

__all__ = ["DigestAuthChallenge", "DigestAuthMiddleware"]

_UNAUTHORIZED = 401
# The most answers one request gets: the first challenge, then one stale=true renewal.
_MAX_ANSWERS = 2

Origin = tuple[str, str | None, int | None]


def _algorithms() -> dict[str, str]:
    """Algorithm name (upper case) -> hashlib name, for the hashes this OpenSSL has."""
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
    table: dict[str, str] = {}
    for name, hashlib_name in names.items():
        if hashlib_name in hashlib.algorithms_available:
            table[name] = table[name + "-SESS"] = hashlib_name
    return table


ALGORITHMS = _algorithms()


class DigestAuthChallenge(TypedDict, total=False):
    """The parameters of one Digest challenge that the answer uses (RFC 7616 §3.3)."""

    realm: str
    nonce: str
    qop: str
    algorithm: str
    opaque: str
    domain: str
    stale: str


_FIELDS = ("realm", "nonce", "qop", "algorithm", "opaque", "domain", "stale")


def _origin(url: URL) -> Origin:
    return (url.scheme, url.raw_host, url.port)


def _quote(value: str) -> str:
    """``value`` as a quoted-string (RFC 9110 §5.6.4)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _new_cnonce() -> str:
    # 128 fresh random bits as 32 hex digits, put through SHA-1 as other clients do.
    return hashlib.sha1(secrets.token_bytes(16)).hexdigest()[:32]


def _hashable(body: Payload | bytes | None) -> bool:
    """Whether auth-int can hash ``body`` before it is sent: in memory, or readable twice."""
    if body is None or isinstance(body, bytes | bytearray):
        return True
    return body.in_memory() is not None or body.replayable


async def _body_hash(body: Payload | bytes | None, hashlib_name: str) -> str:
    """H(entity-body) for auth-int (RFC 7616 §3.4.3), the body as it will be sent.

    A body not in memory (a file, a ``BytesIO``) is read through once more, chunk by
    chunk, so hashing a large upload takes no more memory than sending it.
    """
    digest = hashlib.new(hashlib_name)
    if body is None or isinstance(body, bytes | bytearray):
        digest.update(body or b"")
        return digest.hexdigest()
    data = body.in_memory()
    if data is not None:
        digest.update(data)
    else:
        async for chunk in body.chunks():
            digest.update(chunk)
    return digest.hexdigest()


def _qop_options(offered: str) -> set[str]:
    return {option.strip().lower() for option in offered.split(",") if option.strip()}


def _usable(params: dict[str, str]) -> bool:
    return (
        bool(params.get("nonce"))
        and "realm" in params
        and (params.get("algorithm", "MD5").upper() in ALGORITHMS)
    )


def _protection_space(domain: str | None, url: URL) -> list[str]:
    """The ``domain`` URIs as absolute URL prefixes on ``url``'s origin; else the origin."""
    origin = url.origin()
    spaces: list[str] = []
    for item in (domain or "").split():
        item = item.strip('"')
        if not item:
            continue
        try:
            target = url.join(URL(item))  # an abs-path is relative to the origin's root
        except ValueError:
            continue
        if _origin(target) == _origin(url):  # other origins never get our credentials
            spaces.append(str(origin) + (target.raw_path or "/"))
    return spaces or [str(origin)]


class DigestAuthMiddleware:
    """Answer ``Digest`` challenges with ``login``/``password`` (see the module rules)."""

    def __init__(self, login: str, password: str, preemptive: bool = True) -> None:
        if login is None:
            raise ValueError("None is not allowed as login value")
        if password is None:
            raise ValueError("None is not allowed as password value")
        if ":" in login:
            # A1 = username:realm:password would be ambiguous (RFC 7616 §3.4.2).
            raise ValueError('A ":" is not allowed in username: it separates the fields of A1')
        self._login_str = login
        self._login_bytes = login.encode("utf-8")
        self._password_bytes = password.encode("utf-8")
        self._preemptive = preemptive
        self._challenge: DigestAuthChallenge = {}
        self._protection_space: list[str] = []
        self._nonce_count = 0
        self._last_nonce_bytes = b""
        # Whether an answer to the current challenge was accepted: only then preemptive.
        self._proven = False
        # -sess: H(A1) is the session key, computed once per nonce (RFC 2617 §3.2.2.2), so
        # its cnonce is kept for the nonce's later requests: (nonce, realm, algorithm) ->
        self._session: tuple[tuple[bytes, str, str], str, str] | None = None

    async def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        preempted = False
        if (
            self._preemptive
            and self._proven
            and "Authorization" not in request.headers
            and self._in_protection_space(request.url)
            and self._answerable(request.body)
        ):
            request.headers["Authorization"] = await self._encode(
                request.method, request.url, request.body
            )
            preempted = True
        response = await handler(request)
        answers = 0
        while (
            response.status == _UNAUTHORIZED
            and answers < _MAX_ANSWERS
            and request.replayable
            and _asked_for(request, response)
        ):
            if not self._authenticate(response):
                break  # no Digest challenge: the caller's 401
            if answers and self._challenge.get("stale", "").lower() != "true":
                break  # our answer was refused, not as stale: the caller's 401
            # A body still going out on the refused request stops first: auth-int may read
            # the same file to hash it.
            request.terminate()
            try:
                authorization = await self._encode(request.method, request.url, request.body)
            except BaseException:
                response.release()
                raise
            await discard(response)
            request.headers["Authorization"] = authorization
            answers += 1
            response = await handler(request)
        if preempted or answers:
            self._proven = response.status != _UNAUTHORIZED
        return response

    # -- the challenge and its protection space ---------------------------------------------

    def _authenticate(self, response: ClientResponse) -> bool:
        """Take the Digest challenge of a 401; True when there is one to answer.

        A challenge with an unknown algorithm or without a nonce is passed over for a later
        usable one (RFC 2617 §3.2.1); if none is usable the first stays, and answering it
        raises the ``ClientError`` that says why.
        """
        if response.status != _UNAUTHORIZED:
            return False
        offers = [
            params
            for scheme, params in parse_challenges(field_lines(response.headers))
            if scheme == "digest" and any(field in params for field in _FIELDS)
        ]
        if not offers:
            return False
        params = next((p for p in offers if _usable(p)), offers[0])
        self._challenge = cast(DigestAuthChallenge, {f: params[f] for f in _FIELDS if f in params})
        self._protection_space = _protection_space(self._challenge.get("domain"), response.url)
        self._proven = False
        return True

    def _in_protection_space(self, url: URL) -> bool:
        """Whether ``url`` lies under one of the protection space's URIs (RFC 7616 §3.3).

        A URI covers itself and what lies below it as a path: ``/app`` covers ``/app`` and
        ``/app/x`` but not ``/apps``. The query and fragment play no part.
        """
        target = str(url.with_query(None).with_fragment(None))
        for space in self._protection_space:
            if target.startswith(space) and (
                len(target) == len(space) or space.endswith("/") or target[len(space)] == "/"
            ):
                return True
        return False

    def _answerable(self, body: Payload | bytes | None) -> bool:
        """False when the challenge takes only auth-int and ``body`` cannot be hashed."""
        return _qop_options(self._challenge.get("qop", "")) != {"auth-int"} or _hashable(body)

    # -- the answer (RFC 7616 §3.4) --------------------------------------------------------

    async def _encode(self, method: str, url: URL, body: Payload | bytes | None) -> str:
        """The ``Authorization`` value answering the current challenge for this request."""
        challenge = self._challenge
        if "realm" not in challenge:
            raise ClientError("Malformed Digest auth challenge: Missing 'realm' parameter")
        if "nonce" not in challenge:
            raise ClientError("Malformed Digest auth challenge: Missing 'nonce' parameter")
        realm, nonce = challenge["realm"], challenge["nonce"]
        if not nonce:  # a nonce is what makes an answer unusable for a replay
            raise ClientError("Security issue: Digest auth challenge contains empty 'nonce' value")
        qop = _choose_qop(challenge.get("qop", ""), body)
        algorithm = challenge.get("algorithm", "MD5")  # echoed as the server spelled it
        hashlib_name = ALGORITHMS.get(algorithm.upper())
        if hashlib_name is None:
            raise ClientError(
                f"Digest auth error: Unsupported hash algorithm: {algorithm}. "
                f"Supported algorithms: {', '.join(sorted(ALGORITHMS))}"
            )

        def h(data: bytes) -> str:
            return hashlib.new(hashlib_name, data).hexdigest()

        nonce_bytes = nonce.encode("utf-8")
        if nonce_bytes == self._last_nonce_bytes:
            self._nonce_count += 1
        else:
            self._last_nonce_bytes, self._nonce_count = nonce_bytes, 1
        nc = f"{self._nonce_count:08x}"
        cnonce = _new_cnonce()
        ha1 = h(b":".join((self._login_bytes, realm.encode("utf-8"), self._password_bytes)))
        sess = algorithm.upper().endswith("-SESS")
        if sess:
            key = (nonce_bytes, realm, algorithm.upper())
            if self._session is not None and self._session[0] == key:
                cnonce, ha1 = self._session[1], self._session[2]
            else:
                ha1 = h(f"{ha1}:{nonce}:{cnonce}".encode())
                self._session = (key, cnonce, ha1)
        # digest-uri: the request-target in origin-form, as the server receives it.
        uri = url.raw_path_qs or "/"
        a2 = f"{method.upper()}:{uri}".encode()
        if qop == "auth-int":
            a2 += b":" + (await _body_hash(body, hashlib_name)).encode()
        if qop is None:
            response = h(f"{ha1}:{nonce}:{h(a2)}".encode())
        else:
            response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{h(a2)}".encode())
        fields = [
            f"username={_quote(self._login_str)}",
            f"realm={_quote(realm)}",
            f"nonce={_quote(nonce)}",
            f"uri={_quote(uri)}",
            f"algorithm={algorithm}",
            f"response={_quote(response)}",
        ]
        if "opaque" in challenge:  # returned unchanged, even empty (RFC 7616 §3.3)
            fields.append(f"opaque={_quote(challenge['opaque'])}")
        if qop is not None:
            fields += [f"qop={qop}", f"nc={nc}", f"cnonce={_quote(cnonce)}"]
        elif sess:
            fields.append(f"cnonce={_quote(cnonce)}")  # H(A1) used it: the server needs it
        return "Digest " + ", ".join(fields)


def _choose_qop(offered: str, body: Payload | bytes | None) -> str | None:
    """The qop to answer with: auth-int when offered and the body can be hashed."""
    options = _qop_options(offered)
    if not options:
        return None  # RFC 2069: no qop, no cnonce, no nc
    if not options & {"auth", "auth-int"}:
        raise ClientError(
            f"Digest auth error: Unsupported Quality of Protection (qop) value(s): {offered}"
        )
    if "auth-int" in options:
        if _hashable(body):
            return "auth-int"
        if "auth" not in options:
            raise ClientError(
                "Digest auth: the server asks for qop=auth-int, which hashes the body, "
                "but the request body is a one-shot stream that cannot be read twice"
            )
    return "auth"


def _asked_for(request: ClientRequest, response: ClientResponse) -> bool:
    """Whether this hop is on the origin the caller asked for (the chain's first request)."""
    history = response.history
    first = history[0].url if history else request.url
    return _origin(first) == _origin(request.url)
