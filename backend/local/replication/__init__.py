"""The local global-tables replicator, in parts (each with one job and its own state).

    python -m backend.local.replication --config FILE

Start at ``replicator.py`` (the ``Replicator`` composing the parts); ``decisions.py`` is the pure last-writer-wins
core every part defers to. This module imports nothing, so importing one part never drags in the others.
"""
