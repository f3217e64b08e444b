"""Generate stage: arms through engine processes, backends and executors, resumably."""
