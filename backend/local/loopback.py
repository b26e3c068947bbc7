"""The one rule every local listener and admin API follows: loopback only."""

import ipaddress


def is_loopback(host) -> bool:
    """True for any address of 127.0.0.0/8 or ::1 (and the name localhost); False for anything else or garbage."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except (TypeError, ValueError):
        return False
