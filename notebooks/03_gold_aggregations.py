# Databricks notebook source
# MAGIC %md
# MAGIC # Gold: metrics and the ranker's training examples
# MAGIC
# MAGIC Recomputes the sections silver changed with `flowtype_core.metrics`, then their participants'
# MAGIC sessions, participant means, digraph latencies and the ranker's training examples.
# MAGIC
# MAGIC The same function runs on a laptop (polars over local Delta tables) and here on Spark:
# MAGIC `flowtype_core.pipeline.layers.run_gold`. Re-running with nothing new writes nothing.

# COMMAND ----------

# The job task installs the project's wheel (databricks.yml `libraries`); a laptop has it installed.
from flowtype_core.pipeline.layers import run_gold
from flowtype_core.pipeline.notebook import finish_notebook, notebook_context

# COMMAND ----------

context = notebook_context(globals())
result = run_gold(context)
print(result.to_dict())

# COMMAND ----------

figures = finish_notebook(globals(), result)
