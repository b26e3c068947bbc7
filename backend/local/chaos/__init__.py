"""History-checked fault runs against the local cloud (Jepsen-style, on processes on 127.0.0.1).

    python -m backend.local.chaos --minutes 10 --report docs/RELIABILITY.md [--history run.jsonl] [--seed 1]
    python -m backend.local.chaos --seconds 25                  # the short run of `make test`
    python -m backend.local.chaos --consistency strong --minutes 10 --report docs/RELIABILITY-MRSC.md  # make chaos-strong

What it does (``runner.py``):

1. starts a ``LocalCloud`` (3 regions by default, network model off so the machine's time goes to operations);
2. K client threads write unique values (``c<client>-<n>``) to fresh keys and to a few hot keys (conflicts across
   regions), through the regions' endpoints and the global endpoint, and a share of them (``direct_fraction``)
   straight to a region's DynamoDB endpoint as the AWS CLI would (PutItem of key and value only, or UpdateItem),
   and read keys back through the API; every operation is
   recorded as invoke / ok / fail / info events (``history.py``, ``clients.py``; ``checker.py`` says what they
   mean);
3. a lag probe writes a fresh key in one region and polls another until it is visible (replication lag per pair);
4. a fault schedule injects the faults of ``faults.py`` one at a time, each healed before the next;
5. after the last heal and the end of the workload: waits for quiescence (the replicator idle and every region's
   table identical: the convergence time), reads every key in every region through the API, and checks the
   history (``checker.check``); ``report.py`` renders the Markdown report.

With ``--consistency strong`` the table is MRSC (three US regions, or two and ``--witness``): the clients also make
strongly consistent reads straight to a random region's DynamoDB, the faults include ``region-isolate``, a restarted
region stays out of the quorum until it has caught up (``strong_restart.py``), and the checker also fails the run on a
stale strong read (``strong_checks.py``).

Exit status 0 when the run converged with no lost acknowledged write and no never-written value (and, on MRSC, no
stale strong read), 1 otherwise, 2 on bad arguments.
"""
