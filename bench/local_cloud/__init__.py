"""Benchmarks of the local cloud (issue 3), every figure next to a baseline measured in the same run.

    python -m bench [--quick]          (the local cloud part alone: python -m bench.local_cloud [--quick] [--only S])

1. One region, network "none": GET and POST p50/p99 and throughput at 1 and 8 client threads (one keep-alive
   ``requests.Session`` per thread) through the region's gateway, against two baselines on the same DynamoDB (the
   region's moto): direct boto3 calls to the region's DynamoDB endpoint, and serverless-offline@13 (run by osls)
   serving the same handlers. Systems are measured in interleaved rounds and the median round is kept, so a burst of
   load from other processes on the machine hits every system alike.
2. Startup time: one region alone, and the default two-region cloud (regions, replicator, router, control).
3. Replication lag with network "none": the replicator's ReplicationLatency (stream record created → applied), and
   a client's view (write in one region, poll the other region's table until the item is there).
4. RSS of the whole two-region stack after 100,000 writes (on 1,000 keys, 8 writer threads) once replication is
   quiescent, and after as many stream polls as an hour of the replicator idling makes.
5. The ceiling: one region's GET and POST throughput under ``wrk`` (16 keep-alive connections), as a ratio of
   in-process moto's own ``get_item``/``put_item`` per second on one thread, measured in the same run.
6. Replication under sustained load: ``wrk`` POSTs into one region of two (100,000 writes, as fast as it answers);
   ReplicationLatency, backlog and stack RSS sampled throughout, and the time to drain after the last write.

Targets (issue 3): GET p50 ≤ 0.5× serverless-offline's; throughput ≥ 2× serverless-offline's; added p50 over direct
boto3 ≤ 2 ms; lag p50 ≤ 100 ms and p99 ≤ 300 ms; stack RSS ≤ 300 MB; ceiling: GET ≥ 0.75× in-process moto; (global-tables issue) at the highest write rate lag p99 ≤ 1 s, RSS ≤ 300 MB
throughout, drained ≤ 5 s after the last write.
Results: printed, and written to local_cloud.json and local_cloud.md: in bench/results/ by make bench's full run only
(``--publish``), under .local/bench/ otherwise (bench/run_context.py).

Modules: ``load`` (quantiles, threaded load, each system's workers), ``offline`` (serverless-offline), one module a
section (``path``, ``startup``, ``replication``, ``ceiling`` with ``inprocess_moto``, ``sustained``), ``report`` (verdicts, markdown), ``cli`` (``main``).
"""
