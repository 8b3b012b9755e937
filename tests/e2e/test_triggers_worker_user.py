"""`--worker-user NAME`: handler processes run as that unprivileged user (Linux, a server run as root);
the server's own files stay out of their reach, and a user that cannot be used stops the server at
start with a clear message."""

from __future__ import annotations

import io
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.e2e.triggers_support import ROLE, handler_dir, unique, zip_of
from tests.server import Server

USER = "nobody"

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0,
    reason="switching handlers to another user needs Linux and a server run as root",
)


def worker_python() -> str:
    """An interpreter the worker user can run (the suite's may live in root's home, as pyenv puts it)."""
    from headwater.triggers.worker_user import WorkerUser

    user = WorkerUser.resolve(USER)
    for candidate in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        if Path(candidate).exists() and user.cannot_read(Path(candidate)) is None:
            return candidate
    pytest.skip(f"no Python interpreter that {USER} can run")


WHO = """
import os

def handler(event, context):
    def attempt(action):
        try:
            action()
            return "allowed"
        except PermissionError:
            return "denied"

    return {
        "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups(),
        "home": os.environ.get("HOME"),
        "read_database": attempt(lambda: open(event["database"], "rb").close()),
        "list_data_dir": attempt(lambda: os.listdir(event["data_dir"])),
        "write_code": attempt(lambda: open(os.path.join(os.getcwd(), "x.py"), "w").close()),
    }
"""


@pytest.fixture(scope="module")
def root() -> Iterator[Path]:
    """A directory the worker user may pass through (pytest's own temporary root is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="headwater-worker-user-"))
    folder.chmod(0o711)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def srv(root: Path) -> Iterator[Server]:
    allowed = root / "code"
    allowed.mkdir()
    allowed.chmod(0o755)
    flags = ("--worker-user", USER, "--worker-python", worker_python(), "--allow-code-dir", str(allowed))
    server = Server(root, flags).start()
    yield server
    server.stop()


def test_handlers_run_as_the_worker_user_and_cannot_reach_the_servers_files(srv: Server, root: Path) -> None:
    lam = srv.client("lambda")
    name = unique("who")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(WHO)},
    )
    data_dir = root / "data"
    event = {"database": str(data_dir / "headwater.db"), "data_dir": str(data_dir)}
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    assert "FunctionError" not in response, response["Payload"].read()
    seen = json.loads(response["Payload"].read())
    nobody = pwd.getpwnam(USER)
    assert (seen["uid"], seen["euid"], seen["gid"]) == (nobody.pw_uid, nobody.pw_uid, nobody.pw_gid)
    assert 0 not in seen["groups"]  # the server's (root's) supplementary groups are dropped
    assert seen["home"] == nobody.pw_dir
    assert seen["read_database"] == "denied"
    assert seen["list_data_dir"] == "denied"
    assert seen["write_code"] == "denied"  # its own code is read-only to it
    assert (data_dir / "headwater.db").stat().st_mode & 0o077 == 0  # the server's files are its own


def test_layers_and_allowed_directories_are_read_as_the_worker_user(srv: Server, root: Path) -> None:
    lam = srv.client("lambda")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("python/shared.py", "WHO = 'layer'\n")
    layer = lam.publish_layer_version(LayerName=unique("shared"), Content={"ZipFile": buffer.getvalue()})
    folder = handler_dir(
        root / "code", "import os, shared\ndef handler(e, c):\n    return [shared.WHO, os.getuid()]\n"
    )
    for path in (folder, folder / "app.py"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    name = unique("layered")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"S3Bucket": "hot-reload", "S3Key": str(folder)},
        Layers=[layer["LayerVersionArn"]],
    )
    answer = json.loads(lam.invoke(FunctionName=name)["Payload"].read())
    assert answer == ["layer", pwd.getpwnam(USER).pw_uid]


def test_code_the_worker_user_cannot_read_is_refused_at_creation(srv: Server, root: Path) -> None:
    private = root / "code" / "private"
    private.mkdir()
    private.chmod(0o700)
    (private / "app.py").write_text("def handler(e, c):\n    return 1\n")
    with pytest.raises(ClientError) as err:
        srv.client("lambda").create_function(
            FunctionName=unique("private"),
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"S3Bucket": "hot-reload", "S3Key": str(private)},
        )
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert err.value.response["Error"]["Message"] == (
        f"Handlers run as {USER} (--worker-user), who cannot read the code: "
        f"{private} is not readable by {USER}"
    )


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "headwater", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("no-such-user-hw", "--worker-user no-such-user-hw: no such user on this machine"),
        ("root", "--worker-user root is root: name an unprivileged user such as nobody"),
    ],
)
def test_a_user_that_cannot_be_used_stops_the_server_at_start(
    user: str, expected: str, tmp_path: Path
) -> None:
    done = serve("--data-dir", str(tmp_path / "data"), "--worker-user", user)
    assert done.returncode == 2
    assert expected in done.stderr


def test_a_data_dir_the_worker_user_cannot_reach_stops_the_server_at_start(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    done = serve(
        "--data-dir", str(private / "data"), "--worker-user", USER, "--worker-python", worker_python()
    )
    assert done.returncode == 2
    assert f"--worker-user {USER} cannot read the directory function code is unpacked into" in done.stderr
    assert f"is not searchable by {USER}" in done.stderr
