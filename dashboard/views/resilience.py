import streamlit as st

st.title("resilience")
st.info("Coming soon.")
