"""The published population figures that FlowType's metrics are defined to be compared with."""

from __future__ import annotations

from types import MappingProxyType

CHI2018_CITATION = (
    "Dhakal, V., Feit, A. M., Kristensson, P. O., Oulasvirta, A. Observations on Typing from "
    "136 Million Keystrokes. CHI 2018. doi:10.1145/3173574.3174220"
)

# Keys follow `population_summary`; a missing `_sd` means the paper gives none.
PUBLISHED_CHI2018 = MappingProxyType(
    {
        "participants": 168_000,
        "wpm_mean": 51.56,
        "wpm_sd": 20.20,
        "iki_mean_ms_mean": 238.66,
        "iki_mean_ms_sd": 111.60,
        "hold_mean_ms_mean": 116.25,
        "error_rate_pct_mean": 1.17,
        "kspc_mean": 1.173,
        "rollover_mean": 0.25,
        "citation": CHI2018_CITATION,
    }
)
