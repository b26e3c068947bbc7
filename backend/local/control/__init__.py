"""The control API of the local cloud (loopback only): its contract, operations, HTTP routes, Python client, and the
global process that serves it beside the geo router."""

from backend.local.control.client import ControlClient, ControlError

__all__ = ["ControlClient", "ControlError"]
