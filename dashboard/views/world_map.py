import streamlit as st

st.title("world_map")
st.info("Coming soon.")
