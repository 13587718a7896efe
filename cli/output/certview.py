"""``--show-cert``: the server's certificate as a rich panel on stderr, and the ``"tls"``
object of ``--report``.

Never imports ``client``: it renders plain values (``cli.messages.TLSDetails``, which the
exchange fills from ``resp.tls_info``, and the certificate summary dict of
``CertificateInfo.to_dict()``). rich is imported only when a panel is drawn.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from cli.messages import TLSDetails
from cli.output.console import console_for

if TYPE_CHECKING:
    from rich.console import RenderableType


def tls_record(details: TLSDetails | None, certificate: dict[str, Any] | None) -> dict[str, Any]:
    """The report's ``"tls"`` object: protocol facts and the certificate summary."""
    out: dict[str, Any] = {}
    if details is not None:
        out = {
            "version": details.version,
            "cipher": details.cipher,
            "alpn": details.alpn,
            "server_hostname": details.server_hostname,
            "verified": details.verified,
        }
    out["certificate"] = certificate
    return out


def _when(iso: str) -> str:
    moment = datetime.datetime.fromisoformat(iso)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _validity(cert: dict[str, Any]) -> tuple[str, str]:
    """The validity line and its style: days left, or how long ago it expired."""
    span = f"{_when(cert['not_before'])} → {_when(cert['not_after'])}"
    days = int(cert["days_left"])
    if cert["expired"]:
        ago = abs(days)
        return f"{span}  (EXPIRED {ago} day{'s' if ago != 1 else ''} ago)", "bold red"
    if cert["not_yet_valid"]:
        return f"{span}  (NOT YET VALID)", "bold red"
    return f"{span}  ({days} days left)", "green" if days >= 30 else "yellow"


def _safe(text: str) -> str:
    """Decoded names may hold control characters: never hand them to a terminal."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


def panel(
    cert: dict[str, Any], details: TLSDetails | None, where: str, note: str = ""
) -> RenderableType:
    """The certificate of ``where`` (``host:port``) as a rich panel."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    table = Table.grid(padding=(0, 2))
    table.add_column(style="blue", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("Subject", Text(cert["subject"]))
    table.add_row("Issuer", Text(cert["issuer"]))
    names = [_safe(n) for n in cert["san_dns"]] + list(cert["san_ip"])
    table.add_row("SANs", Text(", ".join(names) or "(none)"))
    validity, style = _validity(cert)
    table.add_row("Validity", Text(validity, style))
    key = cert["public_key_algorithm"]
    if cert.get("public_key_curve"):
        key += f" {cert['public_key_curve']}"
    elif cert.get("public_key_bits"):
        key += f" {cert['public_key_bits']} bits"
    table.add_row("Key", Text(key))
    table.add_row("Serial", Text(cert["serial_hex"]))
    if details is not None:
        facts = [details.version or "?", details.cipher or "?"]
        if details.alpn:
            facts.append(f"ALPN {details.alpn}")
        facts.append("verified" if details.verified else "NOT verified")
        table.add_row("TLS", Text(", ".join(facts)))
    table.add_row("SHA-256", Text(cert["sha256_fingerprint"], "bold"))
    if note:
        table.add_row("Note", Text(note, "yellow"))
    # The pins go below the panel, one line each, so no border or fold breaks a copy.
    pins = Text.assemble(
        ("pin the certificate: ", "blue"),
        f"--fingerprint sha256:{cert['sha256_fingerprint']}\n",
        ("pin the public key:  ", "blue"),
        f"--pin-pubkey {cert['spki_pin']}",
        no_wrap=True,
        overflow="ignore",
    )
    box = Panel(table, title=f"certificate of {where}", title_align="left", expand=False)
    return Group(box, pins)


def show(
    stream: BinaryIO,
    renderable: RenderableType,
    *,
    isatty: bool,
    columns: int = 80,
) -> None:
    """Print ``renderable`` on ``stream`` (stderr): colours only on a terminal."""
    # Piped, nothing may fold a fingerprint or a URL: as wide as the longest row.
    with console_for(stream, color=isatty, width=columns, fit=not isatty) as console:
        console.print(renderable, soft_wrap=True)  # long pin lines are never cut
