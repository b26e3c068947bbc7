"""The run store: every measurement run kept with its context (``store``, ``context``, ``recorder``), compared
(``compare``), shared as one file (``share``), and the ``mrkv-probe runs`` commands (``cli``)."""
