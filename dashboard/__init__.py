"""The dashboard package.

Two layers live here:

* the **measurement engine**, ``dashboard.measure``: plain Python that never imports Streamlit, usable from the
  command line (``python -m dashboard.measure``) and from the Streamlit pages alike (see its docstring);
* the **Streamlit app** (``app.py``, ``views/``, ``ui.py``, ``session.py``, ``charts/``), which only draws what the
  engine measures.

Importing this package imports nothing heavy, so ``python -m dashboard.measure`` starts fast.
"""
