"""TAIS: Typical-Acceptance Invariance Screen."""

__version__ = "0.1.0"
