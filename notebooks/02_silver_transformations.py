# Databricks notebook source
# MAGIC %md
# MAGIC # Silver: typed, de-duplicated, validated keystrokes
# MAGIC
# MAGIC Takes bronze rows newer than silver's watermark: the latest ingestion of each section wins, rows
# MAGIC breaking an expectation go to `silver_quarantine` with the rule's name, the rest are typed and get
# MAGIC their hold, IKI and digraph features.
# MAGIC
# MAGIC The same function runs on a laptop (polars over local Delta tables) and here on Spark:
# MAGIC `flowtype_core.pipeline.layers.run_silver`. Re-running with nothing new writes nothing.

# COMMAND ----------

# The job task installs the project's wheel (databricks.yml `libraries`); a laptop has it installed.
from flowtype_core.pipeline.layers import run_silver
from flowtype_core.pipeline.notebook import finish_notebook, notebook_context

# COMMAND ----------

context = notebook_context(globals())
result = run_silver(context)
print(result.to_dict())

# COMMAND ----------

figures = finish_notebook(globals(), result)
