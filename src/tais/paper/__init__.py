"""The paper's own figures, recomputed from its stated inputs."""
