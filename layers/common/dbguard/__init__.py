"""dbguard's shared package: domain logic, data access, models and settings for every function."""
