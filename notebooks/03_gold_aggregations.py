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

# MAGIC %pip install --quiet ".."

# COMMAND ----------

import os
import sys

# The bundle syncs the project next to this folder (also how a laptop runs this file).
sys.path.insert(0, os.path.dirname(os.getcwd()))

from flowtype_core.pipeline.layers import run_gold
from flowtype_core.pipeline.notebook import finish_notebook, notebook_context

# COMMAND ----------

context = notebook_context(globals())
result = run_gold(context)
print(result.to_dict())

# COMMAND ----------

figures = finish_notebook(globals(), result)
