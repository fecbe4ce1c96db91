"""Database secrets in Secrets Manager: the contract applications read, and its staged versions."""
