import streamlit as st

st.title("guided_tour")
st.info("Coming soon.")
