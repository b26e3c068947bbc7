"""Keeping the local cloud's processes small over long runs."""

import ctypes


def return_free_heap_to_the_os() -> None:
    """glibc keeps heap freed after a burst of writes; malloc_trim hands it back, so RSS follows the live data."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size of a process (Linux /proc), in bytes; 0 if unknown."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
