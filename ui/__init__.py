"""Streamlit-only code: cached resources, the login gate, the capture component, shared widgets."""
