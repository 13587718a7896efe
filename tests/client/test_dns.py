"""Name resolution in the connector: the DNS cache, custom nameservers and --resolve overrides.

Every name here is answered by a DNS server of the test on loopback (or an override):
nothing is asked of the machine's resolver.
"""

from __future__ import annotations

import asyncio
import socket

import pytest
import trustme

import client
from tests.servers import dns as dns_servers
from tests.servers import tls
from tests.servers.keepalive import KeepAliveServerFactory

dns_server = dns_servers.dns_server
pytestmark = pytest.mark.timeout(30)


def connector_for(server: dns_servers.DNSServer, **kwargs: object) -> client.TCPConnector:
    resolver = client.AsyncResolver(nameservers=[server.nameserver])
    return client.TCPConnector(resolver=resolver, family=socket.AF_INET, **kwargs)  # type: ignore[arg-type]


async def test_custom_nameserver_answers_a_made_up_name(
    dns_server: dns_servers.DNSServerFactory, keepalive_server: KeepAliveServerFactory
) -> None:
    names = await dns_server({"app.test": "127.0.0.1"})
    server = await keepalive_server()
    async with client.ClientSession(connector=connector_for(names)) as session:
        async with session.get(f"http://app.test:{server.port}/echo") as resp:
            echo = await resp.json()
    assert echo["headers"]["Host"] == f"app.test:{server.port}"
    assert names.count("app.test", "A") == 1


async def test_unknown_name_is_a_dns_error(dns_server: dns_servers.DNSServerFactory) -> None:
    names = await dns_server({})
    async with client.ClientSession(connector=connector_for(names)) as session:
        with pytest.raises(client.ClientConnectorDNSError) as info:
            await session.get("http://nowhere.test/")
    assert info.value.host == "nowhere.test"


async def test_cache_hits_within_ttl_and_misses_after(
    dns_server: dns_servers.DNSServerFactory, keepalive_server: KeepAliveServerFactory
) -> None:
    names = await dns_server({"app.test": "127.0.0.1"})
    server = await keepalive_server()
    url = f"http://app.test:{server.port}/"
    connector = connector_for(names, ttl_dns_cache=0.3, force_close=True)
    async with client.ClientSession(connector=connector) as session:
        for _ in range(3):
            async with session.get(url) as resp:
                await resp.read()
        assert names.count("app.test", "A") == 1
        await asyncio.sleep(0.4)
        async with session.get(url) as resp:
            await resp.read()
        assert names.count("app.test", "A") == 2
        connector.clear_dns_cache("app.test", server.port)
        async with session.get(url) as resp:
            await resp.read()
        assert names.count("app.test", "A") == 3


async def test_cache_can_be_turned_off(
    dns_server: dns_servers.DNSServerFactory, keepalive_server: KeepAliveServerFactory
) -> None:
    names = await dns_server({"app.test": "127.0.0.1"})
    server = await keepalive_server()
    connector = connector_for(names, use_dns_cache=False, force_close=True)
    async with client.ClientSession(connector=connector) as session:
        for _ in range(3):
            async with session.get(f"http://app.test:{server.port}/") as resp:
                await resp.read()
    assert names.count("app.test", "A") == 3


async def test_concurrent_lookups_share_one_query_and_failures_are_not_cached(
    dns_server: dns_servers.DNSServerFactory, keepalive_server: KeepAliveServerFactory
) -> None:
    names = await dns_server({"app.test": "127.0.0.1"})
    server = await keepalive_server()
    connector = connector_for(names)
    async with client.ClientSession(connector=connector) as session:

        async def fetch() -> int:
            async with session.get(f"http://app.test:{server.port}/delay/0.05") as resp:
                await resp.read()
                return resp.status

        assert await asyncio.gather(*(fetch() for _ in range(10))) == [200] * 10
        assert names.count("app.test", "A") == 1
        for _ in range(2):
            with pytest.raises(client.ClientConnectorDNSError):
                await session.get(f"http://later.test:{server.port}/")
        assert names.count("later.test", "A") == 2
        names.set("later.test", "127.0.0.1")
        async with session.get(f"http://later.test:{server.port}/") as resp:
            assert resp.status == 200


async def test_trace_signals_tell_cache_hits_from_misses(
    dns_server: dns_servers.DNSServerFactory, keepalive_server: KeepAliveServerFactory
) -> None:
    names = await dns_server({"app.test": "127.0.0.1"})
    server = await keepalive_server()
    seen: list[str] = []
    trace = client.TraceConfig()

    async def on_hit(_s: object, _c: object, params: client.TraceDnsCacheHitParams) -> None:
        seen.append(f"hit {params.host}")

    async def on_miss(_s: object, _c: object, params: client.TraceDnsCacheMissParams) -> None:
        seen.append(f"miss {params.host}")

    trace.on_dns_cache_hit.append(on_hit)
    trace.on_dns_cache_miss.append(on_miss)
    connector = connector_for(names, force_close=True)
    async with client.ClientSession(connector=connector, trace_configs=[trace]) as session:
        for _ in range(2):
            async with session.get(f"http://app.test:{server.port}/") as resp:
                await resp.read()
    assert seen == ["miss app.test", "hit app.test"]


async def test_static_override_keeps_host_header_and_sni(
    keepalive_server: KeepAliveServerFactory, tls_ca: trustme.CA
) -> None:
    # A certificate for the real name only: it verifies only if SNI and the hostname check
    # use "app.test" although the connection goes to 127.0.0.1.
    server_context = tls.server_context(tls_ca.issue_cert("app.test"))
    sni: list[str | None] = []
    server_context.sni_callback = lambda _sock, name, _ctx: sni.append(name)  # type: ignore[assignment,func-returns-value]
    server = await keepalive_server(ssl=server_context)
    resolver = client.StaticResolver({("app.test", server.port): ["127.0.0.1"]})
    connector = client.TCPConnector(resolver=resolver, ssl=tls.client_context(tls_ca))
    async with client.ClientSession(connector=connector) as session:
        async with session.get(f"https://app.test:{server.port}/echo") as resp:
            echo = await resp.json()
    assert echo["headers"]["Host"] == f"app.test:{server.port}"
    assert sni == ["app.test"]


async def test_shared_connector_outlives_its_sessions(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    connector = client.TCPConnector()
    try:
        for _ in range(2):
            async with client.ClientSession(connector=connector, connector_owner=False) as s:
                async with s.get(server.url) as resp:
                    await resp.read()
            assert not connector.closed
        assert server.connections_opened == 1  # the second session reused the first's
    finally:
        await connector.close()
    assert connector.closed
