"""The one lock every moto write of a region takes (see ``patches.py``, ``serialized_writes``): a leaf module, so that
any part of the adapter can hold it without importing the patches."""

import threading

WRITE_LOCK = threading.RLock()  # reentrant: a transaction's steps call the other write operations
