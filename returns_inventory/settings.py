"""The one place that reads config/ files and the environment into typed values."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "RI_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A configuration value is missing or has the wrong type."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str | None
    instance_path: Path
    config_dir: Path
    max_request_bytes: int = 2_097_152
    max_import_bytes: int = 1_073_741_824
    max_import_row_bytes: int = 1_048_576
    sqlite_busy_timeout_ms: int = 15000
    page_size_default: int = 100
    page_size_max: int = 1000
    import_batch_size: int = 5000
    idempotency_retention_hours: int = 48
    idempotency_lock_seconds: int = 60
    log_level: str = "INFO"
    # Failed logins allowed per username and per client address within the window.
    login_window_seconds: int = 900
    login_max_failures_per_username: int = 5
    login_max_failures_per_address: int = 50
    # Behind TLS: cookies only over HTTPS, and browsers told to use HTTPS only (HSTS).
    secure_cookies: bool = False
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are believed.
    trusted_proxies: int = 0
    # Internal hosts webhooks may be sent to (names, addresses, CIDR networks): an on-premise
    # ERP. Read from config/webhooks.toml [endpoints]; RI_WEBHOOK_ALLOWED_INTERNAL_HOSTS
    # (comma-separated) overrides it. Any other loopback/private/link-local URL is refused.
    webhook_allowed_internal_hosts: tuple[str, ...] = ()
    # Policy documents (returns_policy.toml, grading.toml, forecasting.toml) by file stem.
    policies: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read config/default.toml, the policy files and RI_* variables (env wins)."""
        env = os.environ if env is None else env
        config_dir = Path(env.get("RI_CONFIG_DIR") or PROJECT_ROOT / "config")
        instance_path = Path(env.get("RI_INSTANCE_PATH") or PROJECT_ROOT / "instance")
        defaults = _read_toml(config_dir / "default.toml")
        policies = {
            p.stem: _read_toml(p) for p in sorted(config_dir.glob("*.toml")) if p.stem != "default"
        }
        values: dict[str, Any] = dict(defaults.get("app", {}))
        endpoints = policies.get("webhooks", {}).get("endpoints", {})
        if "allowed_internal_hosts" in endpoints:
            values["webhook_allowed_internal_hosts"] = endpoints["allowed_internal_hosts"]
        if "secret_key" in values:
            # A secret in a file ends up in git; refuse it rather than silently use it.
            raise SettingsError("secret_key must come from RI_SECRET_KEY, not a config file")
        for f in dataclasses.fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw not in (None, "") and f.name not in _NOT_FROM_ENV:
                values[f.name] = _coerce(f.name, raw, values.get(f.name, f.default))
        values.update(overrides)
        _check_types(values)
        level = str(values.get("log_level", "INFO")).upper()
        if level not in LOG_LEVELS:
            raise SettingsError(f"{ENV_PREFIX}LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, "
                                f"not {values['log_level']!r}")
        values["log_level"] = level
        if not values.get("database_url"):
            values["database_url"] = f"sqlite:///{instance_path / 'returns_inventory.sqlite3'}"
        values.setdefault("secret_key", None)
        values["webhook_allowed_internal_hosts"] = _host_list(
            values.get("webhook_allowed_internal_hosts", ()))
        values["policies"] = policies
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise SettingsError(f"unknown settings: {', '.join(sorted(unknown))}")
        return cls(instance_path=instance_path, config_dir=config_dir, **values)


# Paths are read above (they locate the files); policies come from their own files.
_NOT_FROM_ENV = {"instance_path", "config_dir", "policies"}


def _check_types(values: Mapping[str, Any]) -> None:
    """A typo in default.toml (a quoted number, say) fails at start-up, not mid-request."""
    for f in dataclasses.fields(Settings):
        if f.name in values and isinstance(f.default, bool):
            if not isinstance(values[f.name], bool):
                raise SettingsError(f"{f.name} must be true or false, not {values[f.name]!r}")
        elif f.name in values and isinstance(f.default, int):
            value = values[f.name]
            if not isinstance(value, int) or isinstance(value, bool):
                raise SettingsError(f"{f.name} must be a whole number, not {value!r}")


def _host_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not all(isinstance(h, str) and h.strip() for h in value):
        raise SettingsError("webhook_allowed_internal_hosts (config/webhooks.toml [endpoints] "
                            "allowed_internal_hosts) must be a list of host names, addresses "
                            f"or networks, not {value!r}")
    return tuple(h.strip() for h in value)


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _coerce(name: str, raw: str, like: Any) -> Any:
    if isinstance(like, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(like, int):
        try:
            return int(raw.replace("_", ""))
        except ValueError as exc:
            raise SettingsError(f"{ENV_PREFIX}{name.upper()} must be a whole number") from exc
    if isinstance(like, (tuple, list)):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw
