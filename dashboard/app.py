"""The dashboard's entry point: `streamlit run dashboard/app.py` (see `make run`).

Pages live in dashboard/views/, not dashboard/pages/: a `pages/` folder next to the main script switches on
Streamlit's legacy multipage mode, under which AppTest reruns the page alone, without this script.

It draws the sidebar (environment, client location, network, region switches, export), then the page chosen
in the navigation. Every page reads the environment from `session.current()`; nothing here measures.
"""

# No sys.path edits: `import dashboard.…` and `import backend.…` resolve because the project is installed
# (`pip install -e .`) or because it is started from the repository root (`python -m streamlit run …`, as
# `make run` does, puts the current directory on sys.path; tests set PYTHONPATH).
import streamlit as st

from dashboard import presenter, session, ui

# No page_icon and no page icons: Streamlit turns the current page's icon into the favicon and fetches it
# from fonts.gstatic.com (Material) or a CDN (emoji), and the app must work offline.
st.set_page_config(page_title="Multi-region key-value store", layout="wide")

PAGES = [
    st.Page("views/playground.py", title="Playground", default=True),
    st.Page("views/latency.py", title="Latency"),
    st.Page("views/replication.py", title="Replication"),
    st.Page("views/resilience.py", title="Resilience"),
    st.Page("views/consistency.py", title="Consistency"),
    st.Page("views/guided_tour.py", title="Guided tour"),
    st.Page("views/world_map.py", title="Map"),
    st.Page("views/compare.py", title="Compare"),
    st.Page("views/aws_endpoints.py", title="AWS endpoints"),
]

navigation = st.navigation(PAGES)
ui.restore_selections()  # Streamlit forgets the widgets a page did not draw: targets, runs… survive page changes
presenter.apply()  # ?presenter=1 or the sidebar toggle: no chrome, larger text, for a projector
with st.sidebar:
    presenter.toggle()
    session.sidebar()
navigation.run()
ui.remember_selections()
# After the page, so the export includes what this run just measured (pages never call st.stop for that reason).
with st.sidebar:
    session.export_controls()
