"""The dashboard package.

Two layers live here:

* the **measurement engine**, plain Python with no Streamlit import, usable from the command line
  (``python -m dashboard.probe``) and from the Streamlit pages alike:
  ``targets`` (where to send requests), ``timed_client`` (one timed HTTP request = one sample),
  ``samples`` (the sample schema, DataFrame helpers, CSV/JSON export), ``stats`` (summaries, ECDF),
  ``latency_run``, ``lag_probe``, ``conflict_probe``, ``failover_probe`` (the probes), ``aws``
  (CloudFormation outputs and the CloudWatch ``ReplicationLatency`` metric) and ``probe`` (the CLI).
  Probes raise ``dashboard._runner.ProbeError`` for bad parameters and ``dashboard.targets.TargetError`` for a bad
  or unknown target; a network or HTTP failure never raises: it is a sample with ``ok`` False and an ``error``;
* the **Streamlit app** (``app.py``, ``pages/``, ``charts.py``, ``ui*.py``), which only draws what the engine measures.

Importing this package imports nothing heavy, so ``python -m dashboard.probe`` starts fast.
"""
