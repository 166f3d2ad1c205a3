"""Who is calling: the client's address, trusting X-Forwarded-For only from configured proxies."""
from __future__ import annotations

import ipaddress
from typing import Iterable


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return None


def trusted_networks(spec: str | Iterable[str] | None) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Parse TRUSTED_PROXIES ("127.0.0.1, 10.0.0.0/8"); a bad entry is an error, not ignored."""
    items = spec.split(",") if isinstance(spec, str) else list(spec or [])
    networks = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"TRUSTED_PROXIES: {item!r} is not an address or network") from exc
    return networks


def client_address(peer: str | None, forwarded_for: str | None, trusted: list) -> str:
    """The real client's address. X-Forwarded-For is read right to left, skipping trusted
    proxies, only when the direct peer is itself a trusted proxy; anything else a client
    wrote there is ignored (it could name anyone)."""
    peer = peer or ""
    peer_ip = _parse(peer)
    if peer_ip is None or not any(peer_ip in net for net in trusted) or not forwarded_for:
        return peer or "unknown"
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        hop_ip = _parse(hop)
        if hop_ip is None:
            return peer  # a malformed hop: stop at what we can vouch for
        if not any(hop_ip in net for net in trusted):
            return str(hop_ip)
    return str(_parse(hops[0]) or peer) if hops else peer
