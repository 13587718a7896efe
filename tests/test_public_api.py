"""``client``'s public surface: ``__all__`` is sorted, complete and resolvable; the error
classes keep aiohttp's stdlib bases so plain ``except OSError`` / ``ValueError`` still work.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
import re
import ssl
from types import ModuleType

import pytest

import client
from tests.servers.keepalive import KeepAliveServerFactory

pytestmark = pytest.mark.timeout(30)

# aiohttp 3.x's top-level ``__all__`` (3.5 through 3.12), the names a script may spell
# ``aiohttp.X``. Only the ones our modules also define are required of ``client``.
_AIOHTTP_NAMES_TEXT = """
    hdrs request
    BaseConnector ClientConnectionError ClientConnectionResetError
    ClientConnectorCertificateError ClientConnectorDNSError ClientConnectorError
    ClientConnectorSSLError ClientError ClientHttpProxyError ClientOSError ClientPayloadError
    ClientProxyConnectionError ClientRequest ClientResponse ClientResponseError ClientSSLError
    ClientSession ClientTimeout ClientWebSocketResponse ClientWSTimeout ConnectionTimeoutError
    ContentTypeError Fingerprint InvalidURL InvalidUrlClientError InvalidUrlRedirectClientError
    NamedPipeConnector NonHttpUrlClientError NonHttpUrlRedirectClientError RedirectClientError
    RequestInfo ServerConnectionError ServerDisconnectedError ServerFingerprintMismatch
    ServerTimeoutError SocketTimeoutError TCPConnector TooManyRedirects UnixConnector
    WSServerHandshakeError WSMessageTypeError
    CookieJar DummyCookieJar FormData BasicAuth ChainMapProxy ETag
    HttpVersion HttpVersion10 HttpVersion11 WSMsgType WSCloseCode WSMessage WebSocketError
    BadContentDispositionHeader BadContentDispositionParam BodyPartReader MultipartReader
    MultipartWriter content_disposition_filename parse_content_disposition
    AsyncIterablePayload BufferedReaderPayload BytesIOPayload BytesPayload IOBasePayload
    JsonPayload PAYLOAD_REGISTRY Payload StringIOPayload StringPayload TextIOPayload
    get_payload payload_type streamer
    AsyncResolver DefaultResolver ThreadedResolver
    DataQueue EMPTY_PAYLOAD EofStream FlowControlDataQueue StreamReader
    TraceConfig TraceConnectionCreateEndParams TraceConnectionCreateStartParams
    TraceConnectionQueuedEndParams TraceConnectionQueuedStartParams
    TraceConnectionReuseconnParams TraceDnsCacheHitParams TraceDnsCacheMissParams
    TraceDnsResolveHostEndParams TraceDnsResolveHostStartParams TraceRequestChunkSentParams
    TraceRequestEndParams TraceRequestExceptionParams TraceRequestHeadersSentParams
    TraceRequestRedirectParams TraceRequestStartParams TraceResponseChunkReceivedParams
"""
AIOHTTP_NAMES = frozenset(_AIOHTTP_NAMES_TEXT.split())


def package_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"client.{info.name}")
        for info in pkgutil.iter_modules(client.__path__)
        if not info.name.startswith("_")
    ]


def public_names(module: ModuleType) -> set[str]:
    """A module's ``__all__``, or else what it defines itself without a leading underscore."""
    declared = getattr(module, "__all__", None)
    if declared is not None:
        return set(declared)
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == module.__name__
    }


def isort_style(name: str) -> tuple[int, list[int | str]]:
    """ruff's RUF022 order (the project lints with it): CONSTANTS, then Classes, then the
    rest; a natural, case-sensitive sort within each group."""
    group = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    parts = re.split(r"(\d+)", name)
    return group, [int(part) if part.isdigit() else part for part in parts]


def test_all_is_sorted_and_unique() -> None:
    names = list(client.__all__)
    assert names == sorted(names, key=isort_style)
    assert len(names) == len(set(names))


def test_every_name_in_all_resolves() -> None:
    missing = [name for name in client.__all__ if not hasattr(client, name)]
    assert missing == []


def test_star_import_gives_all() -> None:
    namespace: dict[str, object] = {}
    exec("from client import *", namespace)
    assert set(client.__all__) <= set(namespace)


def test_all_has_every_aiohttp_name_the_package_defines() -> None:
    defined = {name for module in package_modules() for name in public_names(module)}
    expected = defined & AIOHTTP_NAMES
    missing = sorted(expected - set(client.__all__))
    assert missing == [], f"defined in client's modules and public in aiohttp: {missing}"


def test_all_covers_what_the_package_exports_from_its_modules() -> None:
    """Every public class or function bound in ``client`` itself is listed."""
    bound = {
        name
        for name, value in vars(client).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", "").startswith("client")
    }
    assert sorted(bound - set(client.__all__)) == []


def test_aiohttp_script_names() -> None:
    """The names the seed's examples use, as ``aiohttp.X`` after ``import client as aiohttp``."""
    import client as aiohttp

    for name in (
        "ClientSession",
        "TCPConnector",
        "UnixConnector",
        "NamedPipeConnector",
        "ClientTimeout",
        "BasicAuth",
        "TraceConfig",
        "CookieJar",
        "DummyCookieJar",
        "FormData",
        "Fingerprint",
        "FingerprintMismatch",
        "ContentTypeError",
        "ClientSSLError",
        "ClientConnectorSSLError",
        "ClientConnectorCertificateError",
        "ClientResponse",
        "StreamReader",
        "AsyncResolver",
    ):
        assert inspect.isclass(getattr(aiohttp, name)), name


async def test_top_level_request_helper(keepalive_server: KeepAliveServerFactory) -> None:
    import client as aiohttp

    server = await keepalive_server()
    async with aiohttp.request("GET", server.url + "/") as resp:  # type: ignore[operator]
        assert await resp.text() == "ok"


@pytest.mark.parametrize(
    ("owner", "member"),
    [
        ("ClientSession", "ws_connect"),
        ("ClientSession", "detach"),
        ("ClientSession", "trace_configs"),
        ("ClientSession", "requote_redirect_url"),
        ("ClientResponse", "get_encoding"),
        ("ClientResponse", "wait_for_close"),
        ("ClientResponse", "content_disposition"),
        ("ClientResponse", "links"),
        ("TCPConnector", "clear_dns_cache"),
        ("StreamReader", "readchunk"),
        ("StreamReader", "read_nowait"),
        ("StreamReader", "wait_eof"),
        ("StreamReader", "get_read_buffer_limits"),
    ],
)
def test_aiohttp_members(owner: str, member: str) -> None:
    assert hasattr(getattr(client, owner), member)


# -- the error tree -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "base"),
    [
        (client.ClientConnectorCertificateError, ssl.CertificateError),
        (client.ClientConnectorSSLError, ssl.SSLError),
        (client.ServerTimeoutError, asyncio.TimeoutError),
        (client.ServerTimeoutError, TimeoutError),
        (client.ConnectionTimeoutError, client.ServerTimeoutError),
        (client.SocketTimeoutError, client.ServerTimeoutError),
        (client.InvalidURL, ValueError),
        (client.ClientOSError, OSError),
        (client.ClientConnectorError, client.ClientOSError),
        (client.ClientConnectorDNSError, client.ClientConnectorError),
        (client.ClientProxyConnectionError, client.ClientConnectorError),
        (client.UnixClientConnectorError, client.ClientConnectorError),
        (client.ClientSSLError, client.ClientConnectorError),
        (client.ClientConnectorSSLError, client.ClientSSLError),
        (client.ClientConnectorCertificateError, client.ClientSSLError),
        (client.ClientConnectionResetError, ConnectionResetError),
        (client.ClientConnectionResetError, client.ClientConnectionError),
        (client.ClientConnectionError, client.ClientError),
        (client.ServerConnectionError, client.ClientConnectionError),
        (client.ServerDisconnectedError, client.ServerConnectionError),
        (client.ServerTimeoutError, client.ServerConnectionError),
        (client.ServerFingerprintMismatch, client.ServerConnectionError),
        (client.ClientResponseError, client.ClientError),
        (client.ContentTypeError, client.ClientResponseError),
        (client.TooManyRedirects, client.ClientResponseError),
        (client.ClientHttpProxyError, client.ClientResponseError),
        (client.WSServerHandshakeError, client.ClientResponseError),
        (client.ClientPayloadError, client.ClientError),
        (client.InvalidURL, client.ClientError),
        (client.InvalidUrlClientError, client.InvalidURL),
        (client.NonHttpUrlClientError, client.InvalidUrlClientError),
        (client.InvalidUrlRedirectClientError, client.InvalidUrlClientError),
        (client.InvalidUrlRedirectClientError, client.RedirectClientError),
        (client.NonHttpUrlRedirectClientError, client.NonHttpUrlClientError),
        (client.NonHttpUrlRedirectClientError, client.RedirectClientError),
        (client.NonReplayableBodyError, client.ClientPayloadError),
        (client.InvalidRequestHeaderError, ValueError),
        (client.WSMessageTypeError, TypeError),
    ],
    ids=lambda value: value.__name__,
)
def test_exception_bases(error: type[BaseException], base: type[BaseException]) -> None:
    assert issubclass(error, base)


def test_fingerprint_mismatch_alias() -> None:
    assert client.FingerprintMismatch is client.ServerFingerprintMismatch


def test_client_connector_error_fields() -> None:
    key = client.ConnectionKey("example.test", 8443, True, True, None, None, None)
    error = client.ClientConnectorError(key, ConnectionRefusedError(111, "Connection refused"))
    assert (error.host, error.port, error.errno) == ("example.test", 8443, 111)
    assert isinstance(error.os_error, ConnectionRefusedError)
    assert "example.test:8443" in str(error)


def test_invalid_url_fields() -> None:
    error = client.InvalidURL("not a url", "no scheme")
    assert error.url == "not a url"
    assert "not a url" in str(error)


def test_server_disconnected_message() -> None:
    assert client.ServerDisconnectedError().message == "Server disconnected"
    assert client.ServerDisconnectedError("bye").message == "bye"


def test_encode_basic_auth() -> None:
    assert client.encode_basic_auth("user", "pass") == client.BasicAuth("user", "pass").encode()
    assert client.encode_basic_auth("usé") == "Basic dXPDqTo="  # UTF-8, as aiohttp 3.14
    with pytest.raises(ValueError):
        client.encode_basic_auth("a:b")
    assert client.AddrInfoType is not None and client.SocketFactoryType is not None
