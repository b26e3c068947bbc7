"""Guided tour: the walkthrough's story, live on the local cloud, one button per step (see dashboard/measure/tour/).

"Run the whole tour" runs the five steps in a thread (``dashboard.measure.live``): the live panel shows
"Step n of 5", the time so far and Cancel (it stops before the next step); each step's result appears as soon as
it is done. "Reset demo" puts the local cloud back as the tour found it (replication on, every region up, the
tour's key deleted everywhere) in one click."""

import streamlit as st

from dashboard import charts, live_panel, session
from dashboard.measure import tour
from dashboard.measure.errors import ProbeError
from dashboard.measure.live import LiveRun
from dashboard.measure.targets import TargetError

st.title("Guided tour")
st.caption(
    "The walkthrough's story in five steps, run live on the local cloud. Each step takes a few seconds; "
    "run them in order (or all at once)."
)

RESULTS_KEY = "tour_results"
# Rough length of each step on the local cloud (s), for the time left of a whole-tour run.
STEP_SECONDS = {"isolated": 1.0, "replication": 6.0, "geo": 2.0, "conflict": 2.0, "failover": 15.0}


def run_step(step, ctx) -> tour.StepResult:
    """Runs one step (from the page or from the whole-tour thread: no Streamlit calls here)."""
    try:
        return step.run(ctx)
    except (tour.TourError, ProbeError, TargetError) as error:
        return tour.StepResult(False, str(error))
    except (
        Exception
    ) as error:  # the control API or a region failing mid-step: report it, leave the cloud sane
        tour.restore(ctx)
        return tour.StepResult(False, f"The step failed: {type(error).__name__}: {error}")


def fresh_key(ctx) -> None:
    # The story starts with a key that exists nowhere yet: a fresh one each time step 1 runs, so the tour can be
    # shown again without "Reset demo". Later steps talk about this key.
    ctx.key = tour.new_key()
    st.session_state["tour_key"] = ctx.key


def whole_tour(ctx, results: dict) -> LiveRun:
    """The five steps in a thread; each result lands in ``results`` (a plain dict the page reads) when done."""

    def work(progress, on_sample, stop):
        for index, step in enumerate(tour.STEPS):
            if stop.is_set():
                break
            progress(index, len(tour.STEPS), step.title.split(". ", 1)[-1])
            results[step.id] = run_step(step, ctx)
        progress(len(tour.STEPS), len(tour.STEPS), "done")
        return results

    def steps(elapsed_s, done, total):
        return (
            min(done + 1, len(tour.STEPS)),
            len(tour.STEPS),
            tour.STEPS[min(done, len(tour.STEPS) - 1)].title,
        )

    return LiveRun(work, total_s=sum(STEP_SECONDS.values()), steps=steps)


def figure(chart: tour.Chart):
    """The tour names its charts (the engine draws nothing): each kind is a function of dashboard.charts."""
    return getattr(charts, chart.kind)(chart.data, **chart.options)


def draw_result(step, result) -> None:
    (st.success if result.ok else st.error)(result.summary)
    if result.chart is not None:
        st.plotly_chart(figure(result.chart), width="stretch", key=f"tour_chart_{step.id}")
    if result.table is not None and not result.table.empty:
        # One decimal, as every figure of the tour is rounded (st.table would print floats with four).
        st.table(result.table.set_index(result.table.columns[0]).style.format(precision=1, na_rep="—"))


def main() -> None:
    env = session.current()
    if not env.ready:
        session.explain_not_ready(env)
        return
    try:
        ctx = tour.context(env.targets, env.control, key=st.session_state.setdefault("tour_key", None))
    except tour.TourError as error:
        st.error(str(error))
        return
    # One key for the whole tour, so every step talks about the same item.
    st.session_state["tour_key"] = ctx.key
    st.info(f"Regions: **{ctx.home}** (where the walkthrough writes) and **{ctx.away}**.")

    busy = live_panel.running("tour")
    columns = st.columns([1, 1, 4])
    if columns[0].button(
        "Run the whole tour", key="tour_run_all", type="primary", width="stretch", disabled=busy
    ):
        fresh_key(ctx)
        results = st.session_state[RESULTS_KEY] = {}
        live_panel.start("tour", whole_tour(ctx, results))
        busy = True
    if columns[1].button("Reset demo", key="tour_reset", width="stretch", disabled=busy):
        tour.reset(ctx)
        st.session_state.pop(RESULTS_KEY, None)
        st.session_state.pop("tour_key", None)
        st.rerun()
    live_panel.show("tour", lambda rows: None, lambda live: None, rerun_on_progress=True)

    for step in tour.STEPS:
        st.divider()
        st.subheader(step.title)
        st.write(step.explanation)
        if st.button(f"Run step {step.title.split('.')[0]}", key=f"tour_run_{step.id}", disabled=busy):
            if step.id == tour.STEPS[0].id:
                fresh_key(ctx)
            with st.spinner(f"Running: {step.title}"):
                st.session_state.setdefault(RESULTS_KEY, {})[step.id] = run_step(step, ctx)
        result = st.session_state.get(RESULTS_KEY, {}).get(step.id)
        if result is not None:
            draw_result(step, result)


main()
