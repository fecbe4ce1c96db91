"""The local stack behind `make run`: template.yaml on 127.0.0.1 with moto as the embedded AWS.

Development and test tooling only; never deployed.
"""
