"""Real models for the CPU profile: pinned PyPI packages, GGUF conversion and derived drafts."""
