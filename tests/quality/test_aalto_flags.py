"""The rules on real typists: the Aalto sample's sections, as the importer flags them."""

from __future__ import annotations

import polars as pl
import pytest

from flowtype_core.datasets import read_aalto
from flowtype_core.quality import INVALIDATING, RULE_NAMES
from tests.conftest import AALTO_DIR

MAX_SHARE = 0.05  # issue 13: no rule may flag more than 5 % of real typists' sections


@pytest.fixture(scope="module")
def sections() -> pl.DataFrame:
    return read_aalto(AALTO_DIR).sections


def test_no_rule_flags_more_than_five_percent_of_the_sample(sections, capsys) -> None:
    rules = sections.select(pl.col("quality_flags").str.split(",").alias("rule")).explode("rule")
    counts = dict(rules.filter(pl.col("rule") != "").group_by("rule").len().iter_rows())
    total = sections.height
    with capsys.disabled():
        print(f"\nAalto sample: {total} sections, flag counts per rule")
        for name in RULE_NAMES:
            print(f"  {name:<24} {counts.get(name, 0):>5}  ({counts.get(name, 0) / total:.2%})")
        print(f"  flagged sections         {(sections['quality_flags'] != '').sum():>5}")
        print(f"  invalid sections         {(~sections['valid']).sum():>5}")
    assert total == 2_340 and set(counts) <= set(RULE_NAMES)
    assert all(n <= MAX_SHARE * total for n in counts.values()), counts
    # The sample does trip rules (real data has quirks), and validity follows the invalidating ones.
    assert counts == {"long_idle": 14, "bad_hold": 4, "uppercase_without_shift": 4}
    invalid = sections.filter(~pl.col("valid")).get_column("quality_flags").to_list()
    assert invalid == ["bad_hold"] * 4 and all(f in INVALIDATING for f in invalid)
