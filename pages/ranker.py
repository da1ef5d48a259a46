"""Ranker: train the practice ranker, compare it with its baselines, see what it picks and why (SPEC §3.6)."""

import plotly.express as px
import streamlit as st

from flowtype_core.ranker import ModelRegistry, lessons_to_target, models_dir_of, recommend_sentences
from ui.auth import require_role
from ui.pipeline_widgets import RUN_KEY, fetch_models, live_run, pipeline_runner, start_run
from ui.ranker_charts import baselines_chart, replay_chart, version_rows
from ui.resources import show_error, workbench

user = require_role("researcher")
wb = workbench()
registry = ModelRegistry(models_dir_of(wb))

st.title("Ranker")
st.caption(
    "A LightGBM lambdarank model orders practice sentences by how hard they will be for each typist, "
    "from the sentence text, what is hard for everyone, and the typist's own key and digraph history. "
    "It is evaluated on typists it never saw (grouped folds) against simple baselines."
)

runner = pipeline_runner(wb)
fetch_models(runner, wb)  # a model the Databricks job trained is served from <data>/models like any other
# Training reads the gold tables, so "Train now" runs the incremental pipeline up to train_ranker:
# layers with nothing new write nothing, and the task is watched like any other pipeline run.
if st.button(
    "Train now", type="primary", help=f"bronze → silver → gold → train_ranker on the {runner.name} runner"
):
    start_run(runner, "all")
run_id = st.session_state.get(RUN_KEY)
if run_id and any(task.name == "train_ranker" for task in runner.status(run_id).tasks):
    live_run(runner, run_id, history=False)
    st.page_link("pages/pipeline.py", label="All pipeline runs", icon=":material/account_tree:")

versions = registry.versions()
if not versions:
    st.info("No model yet: press **Train now** (or run the pipeline's `train_ranker` task).")
    st.stop()

current = registry.current()
st.subheader("Versions")
st.caption(
    "Every version's held-out metrics side by side. A new version is served only when it beats the "
    "served one on the same held-out folds; any version can still be served by hand."
)
st.dataframe(version_rows(versions, current.version if current else None), hide_index=True, width="stretch")

names = [v.version for v in reversed(versions)]
chosen = st.selectbox(
    "Model version", names, index=names.index(current.version) if current else 0, help="newest first"
)
record = next(v for v in versions if v.version == chosen)
if current is None or chosen != current.version:
    if st.button(f"Serve {chosen} to the typing test"):
        registry.set_current(chosen)
        st.rerun()
else:
    st.caption(f"{chosen} is the version the typing test uses.")

held_out = record.metrics["held_out"]
evaluation = record.metrics["evaluation"]
left, middle, right = st.columns(3)
left.metric("NDCG@5, held-out typists", f"{held_out['model']['ndcg@5']:.3f}")
best = record.metrics["best_heuristic"]
middle.metric(f"Best baseline ({best})", f"{held_out[best]['ndcg@5']:.3f}")
right.metric("Typists / sections", f"{evaluation['participants']} / {evaluation['sections']}")

chart = baselines_chart(held_out, "Model against baselines", record.metrics.get("intervals"))
st.plotly_chart(chart, width="stretch")

if "replay" in record.metrics:
    st.plotly_chart(replay_chart(record.metrics["replay"]), width="stretch")
    st.caption(
        "Each policy picks 5 practice sentences for a typist it never trained on; the bar is how much of "
        "that typist's extra time on their own slow letter pairs those sentences make them practise, "
        "against the best 5 sentences of the corpus. The model ranks by expected overall slowness, "
        "which is not the same goal."
    )
importance = list(record.feature_importance.items())
importance_chart = px.bar(
    {"feature": [f for f, _ in importance], "gain": [g for _, g in importance]},
    x="gain",
    y="feature",
    orientation="h",
    title="Feature importance (total split gain)",
)
importance_chart.update_layout(yaxis={"categoryorder": "total ascending"})
st.plotly_chart(importance_chart, width="stretch")
with st.expander("Parameters and training data"):
    st.json({"params": record.params, "training_data": record.training_data, "evaluation": evaluation})

st.subheader("Recommendations")
participants = sorted({participant for participant, _ in wb.store.sessions()})
if not participants:
    st.info("No typists in the session store yet.")
    st.stop()
pick, count = st.columns([3, 1])
participant = pick.selectbox("Typist", participants)
n = count.number_input("Sentences", min_value=1, max_value=20, value=5)
forecast = lessons_to_target(wb.store.read_all("sections.csv", participant))
st.metric(
    "Sentences to the target speed",
    forecast.lessons if forecast.lessons is not None else "no forecast",
    help="keybr's forecast: a line through the last 10 sentence speeds, extended to 175 characters a minute",
)
st.caption(forecast.message)
try:
    picks = recommend_sentences(wb, participant, int(n))
except Exception as exc:
    show_error(exc)
    st.stop()
if current is None or chosen != current.version:
    st.caption(f"Recommendations come from the served version ({current.version if current else 'none'}).")
st.dataframe(
    [
        {
            "sentence": p.sentence.text,
            "score": round(p.score, 3),
            "targets": ", ".join(p.targets),
            "why": p.reason,
        }
        for p in picks
    ],
    hide_index=True,
    width="stretch",
)
