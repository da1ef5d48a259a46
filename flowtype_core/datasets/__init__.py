"""Readers that turn public keystroke datasets into FlowType's tables."""

from flowtype_core.datasets.aalto import AaltoImport, FileReport, read_aalto

__all__ = ["AaltoImport", "FileReport", "read_aalto"]
