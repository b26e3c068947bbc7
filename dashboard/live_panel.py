"""The Streamlit side of a live run (``dashboard.measure.live.LiveRun``): while a long probe runs in its thread,
a fragment redraws every ``REFRESH_S`` seconds a progress bar ("Step n of N: … · 12 s left"), a Cancel button
that keeps what was measured, and the samples so far; when the run is over it hands the result to the page and
reruns the page, so the finished results are drawn by the same code as always."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from dashboard.measure.live import LiveRun

REFRESH_S = 0.5


def _key(name: str) -> str:
    return f"live_run_{name}"


def start(name: str, live: LiveRun) -> None:
    st.session_state[_key(name)] = live.start()


def running(name: str) -> bool:
    return _key(name) in st.session_state


def show(
    name: str,
    draw_partial: Callable[[list[dict]], None],
    finish: Callable[[LiveRun], None],
    rerun_on_progress: bool = False,
) -> None:
    """The live panel of run ``name`` (nothing when none is running); ``finish(live)`` once it is over.
    ``rerun_on_progress``: rerun the whole page each time the run's progress count moves (the tour: a finished
    step is drawn by the page itself)."""
    if not running(name):
        return

    @st.fragment(run_every=REFRESH_S)
    def panel() -> None:
        live = st.session_state.get(_key(name))
        if live is None:
            return
        if live.done:
            st.session_state.pop(_key(name), None)
            st.session_state.pop(f"{_key(name)}_seen", None)
            finish(live)
            st.rerun()
        if rerun_on_progress and st.session_state.get(f"{_key(name)}_seen", 0) != live.done_count:
            st.session_state[f"{_key(name)}_seen"] = live.done_count
            st.rerun()
        st.progress(live.fraction, text=live.status_line())
        label = (
            "Cancelling… (keeping what was measured)"
            if live.cancelled
            else "Cancel (keeps what was measured)"
        )
        if st.button(label, key=f"{name}_cancel", disabled=live.cancelled):
            live.cancel()
        draw_partial(live.samples)

    panel()
