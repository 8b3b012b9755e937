"""What the trigger service is configured with (the composition root builds it from the server's flags)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..config import DEFAULT_CONCURRENCY_LIMIT
from .esm import RunnerSettings
from .pool import PoolLimits
from .worker_user import WorkerUser


@dataclass(frozen=True, slots=True)
class TriggerSettings:
    region: str
    account_id: str
    state_dir: Path  # function code and logs live under it
    endpoint_url: str  # what handlers' boto3 talks to (AWS_ENDPOINT_URL)
    runner: RunnerSettings = field(default_factory=RunnerSettings)
    python: str = sys.executable
    # hot reload only from inside these (resolved) directories: `--allow-code-dir`; none: zips only
    allowed_code_dirs: tuple[Path, ...] = ()
    pool: PoolLimits = field(default_factory=PoolLimits)  # `--max-workers`, `--worker-idle-timeout`
    concurrency_limit: int = DEFAULT_CONCURRENCY_LIMIT  # AccountLimit.ConcurrentExecutions
    worker_user: WorkerUser | None = None  # `--worker-user`: handlers run as this user
