"""`headwater usage` under `--auth sigv4`: signed with the caller's credentials, allowed by
`headwater:GetUsage`, and showing only the caller's account's tables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.auth_support import ADMIN, AuthServer, Identity, allow, create_table


def test_usage_needs_get_usage_and_shows_the_callers_tables(tmp_path: Path) -> None:
    identities = [Identity("alice", policies=[ADMIN]), Identity("reader", policies=[allow("dynamodb:*")])]
    auth = AuthServer(tmp_path, identities, extra_args=("--meter-usage",)).start()
    try:
        create_table(auth.client("dynamodb", "alice"), "Counted")

        def usage(user: str) -> subprocess.CompletedProcess[str]:
            key = auth.keys[user]
            env = {**os.environ, "AWS_ACCESS_KEY_ID": key.id, "AWS_SECRET_ACCESS_KEY": key.secret}
            command = [sys.executable, "-m", "headwater", "usage", "--json", "--endpoint-url", auth.endpoint]
            return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)

        allowed = usage("alice")
        assert allowed.returncode == 0, allowed.stderr
        assert [t["TableName"] for t in json.loads(allowed.stdout)["Tables"]] == ["Counted"]
        refused = usage("reader")
        assert refused.returncode != 0
        assert "AccessDeniedException" in refused.stderr
        assert "headwater:GetUsage" in refused.stderr
    finally:
        auth.stop()
