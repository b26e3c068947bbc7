"""The probes: ``latency`` (N requests against several targets), ``lag`` (replication lag), ``conflict``
(concurrent writes to one key) and ``failover`` (reads through the global endpoint during an outage)."""
