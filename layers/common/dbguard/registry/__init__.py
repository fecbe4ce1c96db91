"""The registry: one item per database dbguard manages, the source of truth rotation iterates."""
