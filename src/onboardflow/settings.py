"""Settings from the environment (ONBOARDFLOW_ prefix) or a .env file, checked at start-up."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./var/onboardflow.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONBOARDFLOW_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="sqlite:///path/to.db for the embedded store, postgresql://user@host/db for production",
    )
    journeys_dir: str = Field(default="journeys", description="Where `init` writes the example journeys")
    batch_size: int = Field(default=1000, ge=1, le=50_000)
    sms_segment_limit: int = Field(
        default=3, ge=1, le=10, description="Warn when an SMS is sent as more segments than this"
    )
