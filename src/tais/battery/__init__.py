"""Battery stage: the benchmarks and the list of Items a run screens."""
