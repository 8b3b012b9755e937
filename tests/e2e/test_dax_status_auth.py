"""`headwater dax status` under `--auth sigv4`: allowed by `headwater:GetDaxCacheStatistics` on the
cluster's ARN (arn:aws:dax:REGION:ACCOUNT:cache/NAME), refused otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.dax.support import ROLE
from tests.e2e.auth_support import ADMIN, AuthServer, Identity, allow


def test_dax_status_needs_the_action_on_the_cluster(tmp_path: Path) -> None:
    watcher = allow("headwater:GetDaxCacheStatistics", "arn:aws:dax:*:*:cache/watched")
    auth = AuthServer(
        tmp_path, [Identity("alice", policies=[ADMIN]), Identity("watcher", policies=[watcher])]
    )
    auth.start()
    try:
        dax = auth.client("dax", "alice")
        for name in ("watched", "other"):
            dax.create_cluster(
                ClusterName=name, NodeType="dax.t3.small", ReplicationFactor=1, IamRoleArn=ROLE
            )

        def status(user: str, cluster: str) -> subprocess.CompletedProcess[str]:
            key = auth.keys[user]
            env = {**os.environ, "AWS_ACCESS_KEY_ID": key.id, "AWS_SECRET_ACCESS_KEY": key.secret}
            command = [
                sys.executable,
                "-m",
                "headwater",
                "dax",
                "status",
                cluster,
                "--endpoint-url",
                auth.endpoint,
            ]
            return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)

        allowed = status("watcher", "watched")
        assert allowed.returncode == 0, allowed.stderr
        assert allowed.stdout.startswith("watched (")
        refused = status("watcher", "other")
        assert refused.returncode != 0
        assert "AccessDeniedException" in refused.stderr
        assert "headwater:GetDaxCacheStatistics" in refused.stderr
    finally:
        auth.stop()
