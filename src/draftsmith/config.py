"""Settings: the only place that reads the environment.

The env file is found the same way from any working directory:
``DRAFTSMITH_ENV_FILE`` if set (a missing file is an error naming it), else
``.env`` in the working directory when present.  Every setting can tell where
its value came from (``draftsmith config``).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "DRAFTSMITH_"
ENV_FILE_VAR = ENV_PREFIX + "ENV_FILE"


class ConfigError(RuntimeError):
    """The configuration cannot be used as given; the message says why."""


def resolve_env_file() -> Path | None:
    """Return the env file to read, or None when there is none to read."""
    named = os.environ.get(ENV_FILE_VAR)
    if named:
        path = Path(named).expanduser().resolve()
        if not path.is_file():
            raise ConfigError(f"{ENV_FILE_VAR} names {path}, but that file does not exist.")
        return path
    default = Path.cwd() / ".env"
    return default.resolve() if default.is_file() else None


def default_worker_concurrency() -> int:
    """Job slots follow the machine: most jobs wait on I/O (the database, an LLM), and the
    CPU-bound parts run in pools sized to the cores, so a few slots per core keep it busy."""
    return max(4, min(32, 3 * (os.cpu_count() or 1)))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    data_dir: Path = Field(
        Path("./var"), description="SQLite file, uploads and the generated secret"
    )
    database_url: str | None = Field(None, description="unset: SQLite in DATA_DIR")
    redis_url: str | None = Field(None, description="unset: in-process jobs, in-memory limits")
    secret_key: SecretStr | None = Field(None, description="unset: generated once in DATA_DIR")
    base_url: str = Field("http://127.0.0.1:8000", description="public URL of the app")
    max_upload_mb: int = Field(50, ge=1, le=10_000)
    max_json_kb: int = Field(2048, ge=16, description="largest JSON or form body accepted")
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint; when set, the LLM engine is the default"
    )
    llm_api_key: SecretStr | None = None
    llm_model: str = "gpt-4o-mini"
    llm_timeout_s: float = Field(
        60.0, gt=0, description="seconds to wait for the endpoint's answer (read timeout)"
    )
    llm_connect_timeout_s: float = Field(
        10.0, gt=0, description="seconds to wait for a connection to the endpoint"
    )
    llm_max_attempts: int = Field(
        3,
        ge=1,
        le=10,
        description="tries per call on HTTP 408/409/429/5xx and lost connections "
        "(a timeout is tried once more at most)",
    )
    llm_context_budget_tokens: int = Field(
        6000, ge=1000, description="prompt plus answer tokens per call; passages are cut to fit"
    )
    llm_temperature: float = Field(0.3, ge=0, le=2, description="sampling temperature")
    llm_concurrency: int = Field(
        3, ge=1, le=16, description="body sections of one post written at the same time"
    )
    embeddings_base_url: str | None = Field(
        None,
        description="OpenAI-compatible /embeddings endpoint; when set, chunks get vectors at "
        "ingest and drafts search by meaning as well as by words",
    )
    embeddings_api_key: SecretStr | None = None
    embeddings_model: str = "text-embedding-3-small"
    embeddings_query_prefix: str = Field(
        "",
        description="put before a search sent for embedding, for models trained with one "
        "('query: ' for E5, 'search_query: ' for nomic-embed-text)",
    )
    embeddings_document_prefix: str = Field(
        "",
        description="put before a document's text sent for embedding ('passage: ' for E5, "
        "'search_document: ' for nomic-embed-text)",
    )
    verify: Literal["off", "llm"] = Field(
        "off",
        description="llm: the LLM also judges the grounding of paraphrased and borderline "
        "sentences (needs LLM_BASE_URL)",
    )
    open_registration: bool = True
    access_token_ttl_s: int = Field(15 * 60, ge=1)
    refresh_family_ttl_days: int = Field(30, ge=1, le=30)
    login_limit_account: str = Field(
        "10/15 minutes", description="failed logins per account from one client address"
    )
    login_limit_account_total: str = Field(
        "100/15 minutes", description="failed logins per account from all addresses together"
    )
    login_limit_address: str = Field("30/minute", description="login attempts per client address")
    register_limit_address: str = Field("20/hour", description="registrations per client address")
    generation_concurrency_limit: int = Field(
        2, ge=1, description="generations queued or running at once, per user"
    )
    generation_hourly_limit: int = Field(
        60, ge=1, description="generations started per user in any hour"
    )
    upload_hourly_limit: int = Field(300, ge=1, description="files uploaded per user in any hour")
    storage_quota_mb: int = Field(
        2048, ge=1, description="stored upload bytes per user, in MB (duplicates are free)"
    )
    worker_concurrency: int = Field(
        default_factory=default_worker_concurrency,
        ge=1,
        le=64,
        description="job slots per worker process (and in `serve` without Redis); "
        "default 3 per CPU core, at least 4, at most 32",
    )
    job_lease_s: int = Field(
        15,
        ge=5,
        description="a running job whose heartbeat (every third of this) stops this long "
        "counts as lost (a killed worker) and is resumed",
    )
    job_resend_s: int = Field(
        120, ge=5, description="a job sent to Redis but not started this long is sent again"
    )
    extract_timeout_s: int = Field(180, ge=1)
    extract_memory_mb: int = Field(1536, ge=128)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["text", "json"] = Field(
        "text", description="json: one object per line (request id, user id, route, status)"
    )
    metrics_token: SecretStr | None = Field(
        None, description="unset: GET /metrics is 404; set: it needs this bearer token"
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as http://127.0.0.1:8000")
        return value.rstrip("/")

    @field_validator(
        "database_url",
        "redis_url",
        "llm_base_url",
        "llm_api_key",
        "embeddings_base_url",
        "embeddings_api_key",
        "metrics_token",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    # -- derived values -------------------------------------------------

    @property
    def database(self) -> str:
        """The SQLAlchemy async URL (drivers filled in for plain URLs)."""
        url = self.database_url or f"sqlite:///{self.data_dir / 'draftsmith.db'}"
        for plain, driver in (
            ("sqlite://", "sqlite+aiosqlite://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.database.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def storage_quota_bytes(self) -> int:
        return self.storage_quota_mb * 1024 * 1024

    @property
    def default_engine(self) -> str:
        """The one rule: "llm" when an LLM endpoint is configured, else "extractive"."""
        return "llm" if self.llm_base_url else "extractive"

    def secret(self) -> str:
        """The signing secret: configured, or generated once and kept in DATA_DIR (0600)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return _stored_secret(self.data_dir)


@lru_cache(maxsize=8)
def _stored_secret(data_dir: Path) -> str:
    """Read (or create) the generated secret once per process (tokens are checked per request)."""
    path = data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race; use its secret
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


SECRET_FIELDS = {"secret_key", "llm_api_key", "embeddings_api_key", "metrics_token"}
URL_FIELDS = {"database_url", "redis_url", "llm_base_url", "embeddings_base_url"}


def mask_url(url: str) -> str:
    """Hide the password of a URL's userinfo (``user:****@host``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo = f"{parts.username or ''}:****"
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{userinfo}@{host}").geturl()


@dataclass(frozen=True)
class EffectiveSetting:
    name: str
    value: str
    source: str


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from the environment and the env file (overrides win; used by tests)."""
    env_file = resolve_env_file()
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValueError as exc:
        raise ConfigError(f"Invalid configuration: {exc}") from exc


def describe(settings: Settings) -> tuple[Path | None, list[EffectiveSetting]]:
    """Every setting with its effective value (secrets masked) and where it came from."""
    env_file = resolve_env_file()
    file_values = {k.upper(): v for k, v in dotenv_values(env_file).items()} if env_file else {}
    rows = []
    for name in Settings.model_fields:
        var = ENV_PREFIX + name.upper()
        if var in os.environ:
            source = "environment"
        elif var in file_values:
            source = str(env_file)
        else:
            source = "default"
        value = getattr(settings, name)
        if name in SECRET_FIELDS:
            shown = "(unset)" if value is None else "********"
            if name == "secret_key" and value is None:
                shown = f"(generated, stored in {settings.data_dir / 'secret_key'})"
        elif value is None:
            shown = "(unset)"
        elif name in URL_FIELDS:
            shown = mask_url(str(value))
        else:
            shown = str(value)
        if name == "database_url" and value is None:
            shown = f"(unset: {settings.database})"
        rows.append(EffectiveSetting(var, shown, source))
    return env_file, rows


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
