"""The measurement engine: plain Python, no Streamlit (tests/unit/test_engine_imports.py checks it).

* ``targets`` -- where to send requests (endpoints file, targets file, CloudFormation outputs);
* ``timed_client`` -- one timed HTTP request = one sample; ``samples`` -- the sample schema, CSV/JSON of samples;
* ``stats`` -- summaries, ECDF; ``aws`` -- CloudFormation outputs and CloudWatch's ``ReplicationLatency``;
* ``probes`` -- latency, lag, conflict, failover and consistency, on one worker pool (``pool``);
* ``cloud_pair`` -- an MREC and an MRSC local cloud side by side; ``consistency_runs`` -- the comparison on both,
  kept in the run store (the Consistency page and ``mrkv-probe consistency``);
* ``common`` -- parameter checks, progress, run ids; ``errors`` -- ``ProbeError`` (bad parameters) and
  ``TargetError`` (a bad or unknown target); a network or HTTP failure never raises: it is a sample with ``ok``
  False and an ``error``;
* ``tour`` -- the guided tour's story; ``cli`` -- ``python -m dashboard.measure``.
"""
