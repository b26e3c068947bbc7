"""The engine's two exceptions, in a module of their own so that every other module can raise them without
importing another (``aws`` and ``targets`` used to import each other for ``TargetError``).

A network or HTTP failure never raises: it is a sample with ``ok`` False and an ``error``.
"""


class TargetError(Exception):
    """A target source is missing, malformed or unreachable. The message says which file, field or URL."""


class ProbeError(Exception):
    """A probe cannot run with these parameters or against these targets (the message says why)."""
