"""Name resolution: the system resolver, custom nameservers and curl's --resolve overrides.

Hermetic: names other than localhost are only ever asked of the test's own DNS server.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time

import pytest

from client.resolver import (
    AbstractResolver,
    AsyncResolver,
    DefaultResolver,
    ResolveResult,
    StaticResolver,
    ThreadedResolver,
    parse_nameserver,
    parse_resolve_option,
)
from tests.servers import dns as dns_servers
from tests.servers import require_ipv6_loopback
from tests.servers.dns import DNSServerFactory

# The fixture lives with its server; binding it here registers it for this module only.
dns_server = dns_servers.dns_server
pytestmark = pytest.mark.timeout(20)

RECORDS = {
    "app.test": "127.0.0.1",
    "dual.test": ["127.0.0.1", "::1"],
    "v6only.test": "::1",
    "many.test": ["127.0.0.2", "127.0.0.3", "127.0.0.2"],
}


def hosts(results: list[ResolveResult]) -> list[str]:
    return [r["host"] for r in results]


# --- every resolver: IP literals ---------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "family"),
    [("127.0.0.1", socket.AF_INET), ("::1", socket.AF_INET6), ("[::1]", socket.AF_INET6)],
)
async def test_ip_literals_come_back_without_any_lookup(
    dns_server: DNSServerFactory, literal: str, family: socket.AddressFamily
) -> None:
    server = await dns_server(RECORDS)
    resolvers: list[AbstractResolver] = [
        ThreadedResolver(),
        AsyncResolver([server.nameserver]),
        StaticResolver({}, fallback=AsyncResolver([server.nameserver])),
    ]
    for resolver in resolvers:
        [result] = await resolver.resolve(literal, 8080, family=socket.AF_UNSPEC)
        assert result["host"] == literal.strip("[]")
        assert result["hostname"] == literal
        assert result["port"] == 8080
        assert result["family"] == family
        await resolver.close()
    assert server.queries == []


async def test_ip_literal_of_the_other_family_is_refused_like_getaddrinfo() -> None:
    for resolver in (ThreadedResolver(), AsyncResolver(["127.0.0.1:9"])):
        with pytest.raises(OSError, match="Address family"):
            await resolver.resolve("::1", 80, family=socket.AF_INET)


async def test_link_local_scope_id_is_kept() -> None:
    [result] = await ThreadedResolver().resolve("fe80::1%lo", 80, family=socket.AF_UNSPEC)
    assert result["host"] == "fe80::1%lo"
    assert result["family"] == socket.AF_INET6


# --- ThreadedResolver ----------------------------------------------------------------------


async def test_threaded_resolver_resolves_localhost() -> None:
    results = await ThreadedResolver().resolve("localhost", 443)
    assert "127.0.0.1" in hosts(results)
    assert all(r["hostname"] == "localhost" and r["port"] == 443 for r in results)
    assert all(r["family"] == socket.AF_INET for r in results)


async def test_threaded_resolver_unspec_family_deduplicates() -> None:
    results = await ThreadedResolver().resolve("localhost", 80, family=socket.AF_UNSPEC)
    keys = [(r["family"], r["host"], r["port"]) for r in results]
    assert "127.0.0.1" in hosts(results)
    assert len(keys) == len(set(keys))


async def test_results_can_be_dialled_with_their_numeric_flags() -> None:
    accepted = asyncio.Event()

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        writer.close()

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    [target] = await ThreadedResolver().resolve("localhost", port)
    _reader, writer = await asyncio.open_connection(
        target["host"], target["port"], family=target["family"], flags=target["flags"]
    )
    await asyncio.wait_for(accepted.wait(), 5)
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()


def test_default_resolver_is_the_threaded_one() -> None:
    assert DefaultResolver is ThreadedResolver


# --- AsyncResolver ---------------------------------------------------------------------------


async def test_async_resolver_asks_the_given_nameserver(dns_server: DNSServerFactory) -> None:
    server = await dns_server(RECORDS)
    resolver = AsyncResolver([server.nameserver])
    [result] = await resolver.resolve("app.test", 8443)
    assert result == {
        "hostname": "app.test",
        "host": "127.0.0.1",
        "port": 8443,
        "family": socket.AF_INET,
        "proto": 0,
        "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
    }
    assert server.queries == [("app.test", "A")]


async def test_async_resolver_names_are_case_insensitive(dns_server: DNSServerFactory) -> None:
    server = await dns_server(RECORDS)
    results = await AsyncResolver([server.nameserver]).resolve("APP.Test.", 80)
    assert hosts(results) == ["127.0.0.1"]
    assert results[0]["hostname"] == "APP.Test."


async def test_async_resolver_family_picks_record_types(dns_server: DNSServerFactory) -> None:
    server = await dns_server(RECORDS)
    resolver = AsyncResolver([server.nameserver])
    assert hosts(await resolver.resolve("dual.test", 80, socket.AF_INET)) == ["127.0.0.1"]
    assert hosts(await resolver.resolve("dual.test", 80, socket.AF_INET6)) == ["::1"]
    both = await resolver.resolve("dual.test", 80, socket.AF_UNSPEC)
    assert [(r["family"], r["host"]) for r in both] == [
        (socket.AF_INET, "127.0.0.1"),
        (socket.AF_INET6, "::1"),
    ]
    assert server.count("dual.test", "A") == 2
    assert server.count("dual.test", "AAAA") == 2


async def test_async_resolver_unspec_returns_the_family_that_exists(
    dns_server: DNSServerFactory,
) -> None:
    server = await dns_server(RECORDS)
    results = await AsyncResolver([server.nameserver]).resolve("v6only.test", 80, socket.AF_UNSPEC)
    assert hosts(results) == ["::1"]


async def test_async_resolver_keeps_order_and_drops_duplicates(
    dns_server: DNSServerFactory,
) -> None:
    server = await dns_server(RECORDS)
    results = await AsyncResolver([server.nameserver]).resolve("many.test", 80)
    assert sorted(hosts(results)) == ["127.0.0.2", "127.0.0.3"]


async def test_nxdomain_is_an_oserror(dns_server: DNSServerFactory) -> None:
    server = await dns_server(RECORDS)
    with pytest.raises(OSError, match="Name or service not known") as info:
        await AsyncResolver([server.nameserver]).resolve("missing.test", 80)
    assert isinstance(info.value, socket.gaierror)
    assert info.value.errno == socket.EAI_NONAME
    assert server.count("missing.test") == 1


async def test_no_record_of_the_family_is_an_oserror(dns_server: DNSServerFactory) -> None:
    server = await dns_server(RECORDS)
    with pytest.raises(OSError, match="No address associated") as info:
        await AsyncResolver([server.nameserver]).resolve("v6only.test", 80, socket.AF_INET)
    assert info.value.errno == socket.EAI_NODATA


async def test_servfail_is_a_temporary_failure(dns_server: DNSServerFactory) -> None:
    server = await dns_server(RECORDS, servfail=["broken.test"])
    with pytest.raises(OSError, match="Temporary failure") as info:
        await AsyncResolver([server.nameserver]).resolve("broken.test", 80)
    assert info.value.errno == socket.EAI_AGAIN


async def test_silent_server_times_out_after_timeout_times_tries(
    dns_server: DNSServerFactory,
) -> None:
    server = await dns_server(RECORDS, silent=["slow.test"])
    resolver = AsyncResolver([server.nameserver], timeout=0.2, tries=2)
    started = time.monotonic()
    with pytest.raises(OSError, match="timeout"):
        await resolver.resolve("slow.test", 80)
    assert time.monotonic() - started < 2
    # Asked again within the 0.4 s budget (unless a loaded machine used it all up).
    assert 1 <= server.count("slow.test", "A") <= 2


async def test_next_nameserver_answers_when_the_first_is_silent(
    dns_server: DNSServerFactory,
) -> None:
    mute = await dns_server({}, silent=["app.test"])
    good = await dns_server(RECORDS)
    resolver = AsyncResolver([mute.nameserver, good.nameserver], timeout=0.3, tries=3)
    assert hosts(await resolver.resolve("app.test", 80)) == ["127.0.0.1"]
    assert mute.count("app.test") >= 1
    assert good.count("app.test") >= 1


async def test_ipv6_nameserver_in_brackets(dns_server: DNSServerFactory) -> None:
    require_ipv6_loopback()
    server = await dns_server(RECORDS)
    [v6] = [ns for ns in server.nameservers if ns.startswith("[")]
    resolver = AsyncResolver([v6])
    assert hosts(await resolver.resolve("app.test", 80)) == ["127.0.0.1"]


async def test_localhost_is_answered_without_a_query(dns_server: DNSServerFactory) -> None:
    # RFC 6761 §6.3: localhost names never go to a nameserver.
    server = await dns_server(RECORDS)
    resolver = AsyncResolver([server.nameserver])
    assert hosts(await resolver.resolve("localhost", 80)) == ["127.0.0.1"]
    assert hosts(await resolver.resolve("api.localhost", 80, socket.AF_UNSPEC)) == [
        "127.0.0.1",
        "::1",
    ]
    assert server.queries == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]", ("::1", 53)),
        ("[::1]:5300", ("::1", 5300)),
        (" 10.0.0.1 ", ("10.0.0.1", 53)),
    ],
)
def test_nameserver_forms(text: str, expected: tuple[str, int]) -> None:
    assert parse_nameserver(text) == expected
    assert AsyncResolver([text]).nameservers == [expected]


@pytest.mark.parametrize(
    "text",
    ["dns.example", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:x", "[::1", "[::1]x"],
)
def test_bad_nameservers_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="bad nameserver"):
        AsyncResolver([text])


def test_bad_async_resolver_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        AsyncResolver([])
    with pytest.raises(ValueError):
        AsyncResolver(["127.0.0.1"], timeout=0)
    with pytest.raises(ValueError):
        AsyncResolver(["127.0.0.1"], tries=0)


def test_missing_dnspython_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dns", None)
    with pytest.raises(RuntimeError, match=r'pip install "zurl\[dns\]"'):
        AsyncResolver(["127.0.0.1"])


def test_importing_the_resolver_does_not_import_dnspython() -> None:
    code = (
        "import sys\n"
        "import client.resolver\n"
        "assert not any(m == 'dns' or m.startswith('dns.') for m in sys.modules), 'dns loaded'\n"
        "sys.modules['dns'] = None\n"
        "try:\n"
        "    client.resolver.AsyncResolver(['127.0.0.1'])\n"
        "except RuntimeError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=15, check=True
    )
    assert done.stdout.strip() == (
        'AsyncResolver needs the dnspython package: pip install "zurl[dns]"'
    )


# --- StaticResolver and --resolve --------------------------------------------------------


async def test_override_gives_its_addresses_and_keeps_the_real_name(
    dns_server: DNSServerFactory,
) -> None:
    server = await dns_server(RECORDS)
    resolver = StaticResolver(
        {("secure.example", 443): ["127.0.0.1", "::1"]},
        fallback=AsyncResolver([server.nameserver]),
    )
    results = await resolver.resolve("Secure.Example", 443, socket.AF_UNSPEC)
    assert hosts(results) == ["127.0.0.1", "::1"]
    assert {r["hostname"] for r in results} == {"Secure.Example"}  # SNI uses the real name
    assert all(r["port"] == 443 for r in results)
    assert server.queries == []


async def test_other_names_and_ports_go_to_the_fallback(dns_server: DNSServerFactory) -> None:
    server = await dns_server(RECORDS)
    resolver = StaticResolver(
        {("app.test", 443): ["127.0.0.9"]}, fallback=AsyncResolver([server.nameserver])
    )
    assert hosts(await resolver.resolve("app.test", 443)) == ["127.0.0.9"]
    assert hosts(await resolver.resolve("app.test", 80)) == ["127.0.0.1"]
    with pytest.raises(OSError, match="Name or service not known"):
        await resolver.resolve("missing.test", 443)
    assert server.queries == [("app.test", "A"), ("missing.test", "A")]


async def test_any_port_and_wildcard_host_with_most_specific_first(
    dns_server: DNSServerFactory,
) -> None:
    server = await dns_server(RECORDS)
    resolver = StaticResolver(
        {
            ("a.example", 8080): ["127.0.0.1"],
            ("a.example", 0): ["127.0.0.2"],
            ("*", 8080): ["127.0.0.3"],
            ("*", 0): ["127.0.0.4"],
        },
        fallback=AsyncResolver([server.nameserver]),
    )
    assert hosts(await resolver.resolve("a.example", 8080)) == ["127.0.0.1"]
    assert hosts(await resolver.resolve("a.example", 9)) == ["127.0.0.2"]
    assert hosts(await resolver.resolve("b.example", 8080)) == ["127.0.0.3"]
    assert hosts(await resolver.resolve("b.example", 9)) == ["127.0.0.4"]
    assert server.queries == []


async def test_override_prefers_the_asked_family_but_never_comes_back_empty() -> None:
    resolver = StaticResolver(
        {("a.example", 80): ["127.0.0.1", "::1"], ("v4.example", 80): ["127.0.0.1"]}
    )
    assert hosts(await resolver.resolve("a.example", 80, socket.AF_INET6)) == ["::1"]
    assert hosts(await resolver.resolve("a.example", 80, socket.AF_INET)) == ["127.0.0.1"]
    # curl uses --resolve addresses even when -6 asks for the other family.
    assert hosts(await resolver.resolve("v4.example", 80, socket.AF_INET6)) == ["127.0.0.1"]


async def test_static_resolver_falls_back_to_the_system_resolver_by_default() -> None:
    resolver = StaticResolver({("x.example", 80): ["127.0.0.1"]})
    assert isinstance(resolver.fallback, ThreadedResolver)
    assert "127.0.0.1" in hosts(await resolver.resolve("localhost", 80))


async def test_closing_the_static_resolver_closes_its_fallback() -> None:
    closed: list[bool] = []

    class Recording(AbstractResolver):
        async def resolve(
            self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
        ) -> list[ResolveResult]:
            raise OSError(socket.EAI_NONAME, "Name or service not known")

        async def close(self) -> None:
            closed.append(True)

    await StaticResolver({}, fallback=Recording()).close()
    assert closed == [True]


@pytest.mark.parametrize(
    "overrides",
    [{("a", 80): []}, {("a", 80): ["not-an-ip"]}, {("a", 70000): ["127.0.0.1"]}],
)
def test_bad_overrides_are_refused(overrides: dict[tuple[str, int], list[str]]) -> None:
    with pytest.raises(ValueError):
        StaticResolver(overrides)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("example.com:443:127.0.0.1", (("example.com", 443), ["127.0.0.1"])),
        ("example.com:80:127.0.0.1,::1", (("example.com", 80), ["127.0.0.1", "::1"])),
        ("example.com:443:[::1],[2001:db8::1]", (("example.com", 443), ["::1", "2001:db8::1"])),
        ("+example.com:443:127.0.0.1", (("example.com", 443), ["127.0.0.1"])),
        ("Example.COM.:443:127.0.0.1", (("example.com", 443), ["127.0.0.1"])),
        ("example.com:*:127.0.0.1", (("example.com", 0), ["127.0.0.1"])),
        ("*:443:127.0.0.1", (("*", 443), ["127.0.0.1"])),
        ("[::1]:443:127.0.0.1", (("::1", 443), ["127.0.0.1"])),
        ("a.test:8080: 127.0.0.1 , 127.0.0.2", (("a.test", 8080), ["127.0.0.1", "127.0.0.2"])),
    ],
)
def test_parse_resolve_option(text: str, expected: tuple[tuple[str, int], list[str]]) -> None:
    assert parse_resolve_option(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "expected host:port:addr"),
        ("example.com", "expected host:port:addr"),
        ("example.com:443", "expected host:port:addr"),
        ("example.com:443:", "empty address"),
        ("example.com:443:127.0.0.1,", "empty address"),
        (":443:127.0.0.1", "empty host"),
        ("example.com:0:127.0.0.1", "port '0'"),
        ("example.com:65536:127.0.0.1", "port '65536'"),
        ("example.com:https:127.0.0.1", "port 'https'"),
        ("example.com:443:localhost", "'localhost' is not an IP address"),
        ("example.com:443:[::1", "'\\[::1' is not an IP address"),
        ("[::1:443:127.0.0.1", "unclosed"),
        ("-example.com:443", "not supported"),
    ],
)
def test_parse_resolve_option_names_the_problem(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_resolve_option(text)


async def test_parsed_entries_feed_the_static_resolver() -> None:
    key, addrs = parse_resolve_option("app.example:*:127.0.0.1")
    resolver = StaticResolver({key: addrs})
    assert hosts(await resolver.resolve("app.example", 8443)) == ["127.0.0.1"]


async def test_an_ip_literal_uses_only_its_own_override() -> None:
    resolver = StaticResolver({("[::1]", 443): ["127.0.0.5"], ("*", 0): ["127.0.0.9"]})
    assert hosts(await resolver.resolve("::1", 443, socket.AF_UNSPEC)) == ["127.0.0.5"]
    # "*" stands for any name: an address typed in the URL is dialled as written.
    assert hosts(await resolver.resolve("127.0.0.1", 443)) == ["127.0.0.1"]
    assert hosts(await resolver.resolve("any.example", 443)) == ["127.0.0.9"]


@pytest.mark.parametrize(
    "name", ["", ".", "a..test", "x" * 64 + ".test", ".".join(["abcdefgh"] * 40)]
)
async def test_names_dns_cannot_carry_do_not_resolve(
    dns_server: DNSServerFactory, name: str
) -> None:
    server = await dns_server(RECORDS)
    with pytest.raises(OSError, match="Name or service not known"):
        await AsyncResolver([server.nameserver]).resolve(name, 80)
    assert server.queries == []


@pytest.mark.parametrize("name", ["nowhere.invalid", "a.b.INVALID.", "invalid"])
async def test_invalid_names_fail_without_a_lookup(name: str) -> None:
    # RFC 6761 §6.4: answered locally, so a typo'd or test name never reaches a resolver.
    with pytest.raises(socket.gaierror) as info:
        await ThreadedResolver().resolve(name, 80)
    assert info.value.errno == socket.EAI_NONAME
