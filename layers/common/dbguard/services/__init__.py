"""Application services: each drives one use case through the ports of the domain it serves."""
