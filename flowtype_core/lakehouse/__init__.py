"""Lakehouse backends behind one interface (`Lakehouse`), chosen by `Settings.lakehouses`."""

from flowtype_core.lakehouse.base import Lakehouse
from flowtype_core.lakehouse.registry import open_lakehouse, open_lakehouses

__all__ = ["Lakehouse", "open_lakehouse", "open_lakehouses"]
