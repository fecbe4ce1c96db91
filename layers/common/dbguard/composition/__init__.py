"""Composition roots: one module per function builds its object graph from its own settings."""
