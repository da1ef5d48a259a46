# Databricks notebook source
# MAGIC %md
# MAGIC # Train the practice-sentence ranker
# MAGIC
# MAGIC Reads the gold tables `gold_ranker_examples` and `gold_ranker_units`, evaluates a LightGBM
# MAGIC lambdarank model on held-out typists (NDCG@5/@10 against the baselines), fits it on everyone and
# MAGIC registers the version with its metrics under the volume's `models/` folder, where the app reads it.
# MAGIC When the current model already learnt from exactly this data, nothing is trained.
# MAGIC
# MAGIC The same function runs on a laptop: `flowtype_core.pipeline.layers.run_train_ranker`.

# COMMAND ----------

# The job task installs the project's wheel (databricks.yml `libraries`); a laptop has it installed.
from flowtype_core.pipeline.layers import run_train_ranker
from flowtype_core.pipeline.notebook import finish_notebook, notebook_context

# COMMAND ----------

context = notebook_context(globals())
result = run_train_ranker(context)
print(result.to_dict())

# COMMAND ----------

figures = finish_notebook(globals(), result)
