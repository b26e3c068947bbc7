"""Keeping the local cloud's processes small over long runs."""

import ctypes


def return_free_heap_to_the_os() -> None:
    """glibc keeps heap freed after a burst of writes; malloc_trim hands it back, so RSS follows the live data."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass
