"""Route 53 emulated in front of the local regions: health checks (``health``), latency-based choice (``geo``) and
the global endpoint that forwards to the chosen region (``endpoint``)."""
