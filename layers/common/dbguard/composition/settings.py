"""The base of every function's settings class. Each function's class lives in its composition root
(composition/<function>.py) and declares exactly the variables that function reads; groups two
functions share are declared once (JumpServerSettings in composition/jumpserver.py, RegistrySettings
in composition/rotator.py, AuditTableSettings in composition/audit_settings.py) and combined.
Environment variable names are the aliases."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError

from dbguard.errors import ConfigurationError
from dbguard.validation import describe


class EnvSettings(BaseModel):
    """Base of every function's settings class: fields are read from the environment by alias.

    Plain pydantic rather than pydantic-settings: the latter adds ~60 ms to every cold start
    (measured with `python -X importtime`) for features the template never uses (dotenv files,
    secrets directories, nested delimiters). Powertools' parameters utility reads SSM and Secrets
    Manager, not the environment the template sets. A required field has no default, so a missing
    variable fails at init with its name.
    """

    # Built when load() validates: only each function's own class, never the groups it combines
    # (a model's schema is built anew for every subclass, so building those is cold start lost).
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Read and check the environment (an empty variable counts as unset)."""
        values = {key: value for key, value in (os.environ if environ is None else environ).items() if value}
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            raise ConfigurationError(f"{cls.__name__}: invalid or missing: {describe(error)}") from None
