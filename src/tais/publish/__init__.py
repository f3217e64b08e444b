"""Publish stage: the aggregated-only artifact set, its manifest and its provenance."""
