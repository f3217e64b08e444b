"""Verify stage: re-hash every artifact and re-derive every published number."""
