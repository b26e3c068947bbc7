"""The local cloud: several regions, replication, geo routing and a network model on 127.0.0.1 (not in the Lambda package)."""
