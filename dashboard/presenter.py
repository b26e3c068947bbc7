"""Presenter mode: for a projector. A sidebar toggle, or ``?presenter=1`` in the URL (``?presenter=0`` leaves it).

It hides the sidebar and Streamlit's header and toolbar, and enlarges the text, metrics and tables (the charts are
drawn at projector sizes already, ``dashboard.charts.style``: resizing their text in CSS would clip it); an "Exit presenter mode" button at the top of the page brings the chrome back (the sidebar, with the toggle,
is hidden meanwhile)."""

from __future__ import annotations

import streamlit as st

KEY = "presenter_mode"
CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"] { display: none !important; }
.stMainBlockContainer, [data-testid="stMainBlockContainer"] { padding-top: 1.5rem; max-width: 100%; }
[data-testid="stMarkdownContainer"] p, [data-testid="stAlertContainer"] p, [data-testid="stCaptionContainer"],
[data-testid="stTable"] td, [data-testid="stTable"] th { font-size: 1.45rem !important; }
[data-testid="stMetricValue"] { font-size: 3rem !important; }
[data-testid="stMetricLabel"] p { font-size: 1.3rem !important; }
h1 { font-size: 3.2rem !important; } h3 { font-size: 2.1rem !important; }
</style>
"""


def active() -> bool:
    """On when the toggle or the URL says so; the URL parameter wins at load and is kept in step with the toggle."""
    wanted = st.query_params.get("presenter")
    if wanted is not None and st.session_state.get("_presenter_url") != wanted:
        st.session_state["_presenter_url"] = wanted
        st.session_state[KEY] = wanted.lower() not in ("0", "false", "off", "no")
    return bool(st.session_state.get(KEY, False))


def toggle() -> None:
    """The sidebar's toggle."""
    st.toggle(
        "Presenter mode", key=KEY, help="Hides the sidebar and chrome and enlarges text (also: ?presenter=1)"
    )


def apply() -> bool:
    """Call once at the top of the app: in presenter mode, the CSS and the way out. True when on."""
    if not active():
        return False
    st.markdown(CSS, unsafe_allow_html=True)
    if st.button("Exit presenter mode", key="presenter_exit"):
        st.session_state[KEY] = False
        st.query_params["presenter"] = "0"
        st.session_state["_presenter_url"] = "0"
        st.rerun()
    return True
