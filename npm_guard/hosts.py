"""What counts as this machine: where plain http and test registries are fine."""

from __future__ import annotations

import re

_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
# 127.0.0.1.evil.example is a DNS name, not loopback: only a dotted quad counts.
_IPV4_LOOPBACK_RE = re.compile(r"127(?:\.\d{1,3}){3}")


def is_loopback(host: str) -> bool:
    """`localhost`, `*.localhost`, `127.x.y.z`, `::1` in any spelling (brackets, a port)."""
    host = host.lower()
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:  # host:port; a bare IPv6 address has several colons
        host = host.partition(":")[0]
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    if _IPV4_LOOPBACK_RE.fullmatch(host):
        return True
    if ":" in host:  # other spellings of ::1, e.g. 0:0:0:0:0:0:0:1
        import ipaddress

        try:
            return ipaddress.IPv6Address(host).is_loopback
        except ValueError:
            return False
    return False


def is_loopback_setting(setting: str) -> bool:
    """An npm auth setting for a registry on this machine: `//localhost:4873/:_authToken`,
    also as an `npm_config_//127.0.0.1:4873/:_authToken` variable."""
    text = setting.strip()
    if text[:11].lower() == "npm_config_":
        text = text[11:]
    if not text.startswith("//"):
        return False
    host = text[2:].split("/", 1)[0]
    return bool(host) and is_loopback(host.rpartition("@")[2])
