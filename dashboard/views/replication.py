import streamlit as st

st.title("replication")
st.info("Coming soon.")
