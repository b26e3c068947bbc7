"""A local region's DynamoDB: moto in-process, shared over HTTP by a ThreadedMotoServer on 127.0.0.1.

Why this order (measured, see DEPENDENCY-FACTS in the shared folder):

- ``mock_aws`` is started first: starting it wipes moto's state, tables served by a running ThreadedMotoServer
  included (and stopping it wipes it too: ``stop()`` does so last).
- then the patches (``patches.install()``: writes serialized, instances untracked), then the table;
- then a ``ThreadedMotoServer`` on 127.0.0.1 in the same process: it shares the in-process state, so other
  processes (the replicator, boto3, the AWS CLI with ``--endpoint-url``) reach the table and its stream over HTTP
  while the region's handlers reach it in-process (~1 ms of CPU a request instead of ~2.2 ms through the server).
  Its default bind is the wildcard address, so the address is always passed.
"""

from __future__ import annotations

import logging
import threading

from backend.local.contracts import TABLE_NAME
from backend.local.dynamodb import (
    patches,
    replica_door,
    replicas,
    streams,
    strong,
    strong_door,
    strong_hooks,
)
from backend.local.memory import return_free_heap_to_the_os

# Shard iterators older than this are freed at each trim. The replicator uses an iterator within one poll (25 ms
# idle), and re-seeks from its checkpoint if one was freed under it; moto stores one per get_records call, so at
# 100-300 polls/s a 60 s window kept 6,000-18,000 of them (+25 MB measured over 30,000 polls a region).
ITERATOR_MAX_AGE_S = 10.0
UNTRACK_INTERVAL_S = 5.0


class LocalDynamoDB:
    """``start()``, ``url``, ``client()``, ``reset()``, ``trim(body)``, ``stop()``, ``close()``. One a process."""

    def __init__(
        self,
        region: str,
        table_name: str = TABLE_NAME,
        host: str = "127.0.0.1",
        port: int = 0,
        iterator_max_age_s: float = ITERATOR_MAX_AGE_S,
        consistency: str = "eventual",
        witness: str | None = None,
        create_table: bool = True,
    ):
        self.region, self.table_name, self.host, self.port = region, table_name, host, port
        self.consistency, self.witness, self.create_table = consistency, witness, create_table
        self.iterator_max_age_s = iterator_max_age_s
        self._mock = None
        self._server = None
        self._stopping = threading.Event()
        self._reset_lock = threading.Lock()

    def start(self) -> LocalDynamoDB:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # werkzeug logs every request otherwise
        from moto import mock_aws
        from moto.server import ThreadedMotoServer

        self._mock = mock_aws()
        self._mock.start()  # first: it wipes moto's state
        patches.install()  # moto's writes race under our threads (duplicate stream sequence numbers)
        replica_door.install()  # every item change gets its hidden version (global tables' last writer wins)
        strong_hooks.install()  # MRSC tables' writes and strong reads agree with another region
        if self.create_table:
            self._create_table()
        threading.Thread(target=self._untrack_periodically, name="moto-untrack", daemon=True).start()
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        return self

    def _untrack_periodically(self) -> None:
        while not self._stopping.wait(UNTRACK_INTERVAL_S):
            patches.untrack_moto_instances()  # classes appear as moto imports them
            # Records expire after 24 h and iterators are freed even with no replicator asking (one region).
            streams.sweep(self.region)
            streams.free_iterators(self.region, self.iterator_max_age_s)
            return_free_heap_to_the_os()

    @property
    def url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def client(self):
        """A boto3 DynamoDB client of this region, in-process (no HTTP)."""
        import boto3

        return boto3.client("dynamodb", region_name=self.region)

    def _create_table(self) -> None:
        from backend.store import table_definition

        self.client().create_table(**table_definition(self.table_name))
        cloud = replicas.cloud_regions()
        if len(cloud) >= 2 and self.region in cloud:
            # The local cloud's own table is a global table of every region it runs, from the start (and after a
            # reset, which recreates it everywhere at once).
            table = patches.table(self.region, self.table_name)
            replicas.mark_global(table, cloud)
            if self.consistency == "strong":  # MRSC from the start (the cloud checked the regions)
                strong.mark_strong(table, [self.witness] if self.witness else [])

    def reset(self) -> None:
        """Drops and recreates the table (a new stream, as on AWS), so the region holds no data."""
        with self._reset_lock:
            strong_door.forget_witness_log()
            if not self.create_table:  # a witness: no table of its own
                return
            client = self.client()
            try:
                client.delete_table(TableName=self.table_name)
            except client.exceptions.ResourceNotFoundException:
                pass
            self._create_table()

    def trim(self, body: bytes | str | None) -> tuple[int, dict]:
        """``POST /__admin/stream/trim``: (HTTP status, JSON document); see ``streams.handle_trim_request``."""
        return streams.handle_trim_request(
            self.region, self.table_name, body, iterator_max_age_s=self.iterator_max_age_s
        )

    def stop(self) -> None:
        """Stops the server and the untrack thread, then the mock (which wipes this process's moto state)."""
        self._stopping.set()
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None

    def close(self) -> None:
        """Closes the listening socket without waiting for the serving thread (the process is about to exit)."""
        if self._server is not None:
            patches.close_server_socket(self._server)
