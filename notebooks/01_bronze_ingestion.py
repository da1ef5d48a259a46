# Databricks notebook source
# MAGIC %md
# MAGIC # Bronze: ingest new session files
# MAGIC
# MAGIC Reads every per-session `keystrokes.csv` / `sections.csv` not ingested before (by path and content
# MAGIC hash) and appends its rows, as text, with the source file and the ingestion time.
# MAGIC
# MAGIC The same function runs on a laptop (polars over local Delta tables) and here on Spark:
# MAGIC `flowtype_core.pipeline.layers.run_bronze`. Re-running with nothing new writes nothing.

# COMMAND ----------

# The job task installs the project's wheel (databricks.yml `libraries`); a laptop has it installed.
from flowtype_core.pipeline.layers import run_bronze
from flowtype_core.pipeline.notebook import finish_notebook, notebook_context

# COMMAND ----------

context = notebook_context(globals())
result = run_bronze(context)
print(result.to_dict())

# COMMAND ----------

figures = finish_notebook(globals(), result)
