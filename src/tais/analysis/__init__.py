"""Analyse stage: rates, paired contrasts, acceptance, the N-sweep and verdicts."""
