"""The Databricks workspace every Databricks backend shares: its settings, one auth resolution
(`auth.py`, the SDK's unified `Config`) and the SQL warehouse connection (`sql.py`)."""
