"""Settings from PLEDGEFLOW_* environment variables, in one pydantic-settings object."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLEDGEFLOW_", extra="ignore")

    database_url: str = "sqlite:///var/pledgeflow.db"
    admin_token: SecretStr | None = None
    timezone: str = "Asia/Shanghai"
    sweep_interval: float = 60.0
    dispatch_interval: float = 2.0
    smtp_url: str | None = None
    seed_demo: bool = False
    sql_echo: bool = False
