"""Config stage: experiment files, profiles, designs, the model lock, and where runs live."""
