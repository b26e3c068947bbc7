"""Guided tour: the walkthrough's story, live on the local cloud, one button per step (see dashboard/measure/tour/)."""

import streamlit as st

from dashboard import charts, session
from dashboard.measure import tour
from dashboard.measure.errors import ProbeError
from dashboard.measure.targets import TargetError

st.title("Guided tour")
st.caption(
    "The walkthrough's story in five steps, run live on the local cloud. Each step takes a few seconds; "
    "run them in order (or all at once)."
)

RESULTS_KEY = "tour_results"


def run_step(step, ctx) -> None:
    if step.id == tour.STEPS[0].id:
        # The story starts with a key that exists nowhere yet: a fresh one each time step 1 runs, so the tour can
        # be shown again without "Start over". Later steps talk about this key.
        ctx.key = tour.new_key()
        st.session_state["tour_key"] = ctx.key
    with st.spinner(f"Running: {step.title}"):
        try:
            result = step.run(ctx)
        except (tour.TourError, ProbeError, TargetError) as error:
            result = tour.StepResult(False, str(error))
        except (
            Exception
        ) as error:  # the control API or a region failing mid-step: report it, leave the cloud sane
            tour.restore(ctx)
            result = tour.StepResult(False, f"The step failed: {type(error).__name__}: {error}")
    st.session_state.setdefault(RESULTS_KEY, {})[step.id] = result


def figure(chart: tour.Chart):
    """The tour names its charts (the engine draws nothing): each kind is a function of dashboard.charts."""
    return getattr(charts, chart.kind)(chart.data, **chart.options)


def draw_result(step, result) -> None:
    (st.success if result.ok else st.error)(result.summary)
    if result.chart is not None:
        st.plotly_chart(figure(result.chart), width="stretch", key=f"tour_chart_{step.id}")
    if result.table is not None and not result.table.empty:
        st.dataframe(result.table, hide_index=True, width="stretch", key=f"tour_table_{step.id}")


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

    columns = st.columns([1, 1, 4])
    run_all = columns[0].button("Run the whole tour", key="tour_run_all", type="primary", width="stretch")
    if columns[1].button("Start over", key="tour_reset", width="stretch"):
        tour.restore(ctx)
        st.session_state.pop(RESULTS_KEY, None)
        st.session_state.pop("tour_key", None)
        st.rerun()

    for step in tour.STEPS:
        st.divider()
        st.subheader(step.title)
        st.write(step.explanation)
        if st.button(f"Run step {step.title.split('.')[0]}", key=f"tour_run_{step.id}") or run_all:
            run_step(step, ctx)
        result = st.session_state.get(RESULTS_KEY, {}).get(step.id)
        if result is not None:
            draw_result(step, result)


main()
