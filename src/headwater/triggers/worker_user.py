"""`--worker-user NAME`: handler processes run as an unprivileged user (Linux, server started as root).

The switch happens in the child between fork and exec (subprocess's `user`/`group`/`extra_groups`, done
in C), so no handler code ever runs with the server's identity. What the user must be able to read (the
interpreter, the worker bootstrap, the function code) is checked up front with the permission bits, so a
mistake is a clear message at start or at CreateFunction rather than a handler that cannot start.
"""

from __future__ import annotations

import os
import pwd
import stat
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class WorkerUser:
    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]  # supplementary groups: the server's own (root's) are dropped
    home: str

    @classmethod
    def resolve(cls, name: str) -> WorkerUser:
        """The user, or ValueError saying why it cannot be used."""
        if not sys.platform.startswith("linux"):
            raise ValueError("--worker-user works on Linux only")
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise ValueError(
                f"--worker-user {name}: no such user on this machine (`getent passwd {name}` finds none); "
                "create it, or name an existing unprivileged user such as nobody"
            ) from None
        if entry.pw_uid == 0:
            raise ValueError(f"--worker-user {name} is root: name an unprivileged user such as nobody")
        if os.geteuid() != 0 and os.geteuid() != entry.pw_uid:
            raise ValueError(
                f"--worker-user {name}: the server must run as root to start handlers as another user"
            )
        groups = tuple(sorted(set(os.getgrouplist(name, entry.pw_gid))))
        return cls(name, entry.pw_uid, entry.pw_gid, groups, entry.pw_dir)

    def _may(self, st: os.stat_result, want: int) -> bool:
        """`want` (4 read, 1 search/execute) by the owner, group or other bits that apply to this user."""
        if st.st_uid == self.uid:
            bits = (st.st_mode >> 6) & 7
        elif st.st_gid == self.gid or st.st_gid in self.groups:
            bits = (st.st_mode >> 3) & 7
        else:
            bits = st.st_mode & 7
        return bits & want == want

    def cannot_read(self, path: Path, *, list_directory: bool = True) -> str | None:
        """None when the user can reach and read `path` (a directory: enter it, and list it unless
        `list_directory` is False); otherwise the path in the way and why."""
        target = Path(os.path.realpath(path))
        for parent in reversed(target.parents):
            try:
                if not self._may(os.stat(parent), 1):
                    return f"{parent} is not searchable by {self.name}"
            except OSError as exc:
                return f"{parent}: {exc.strerror}"
        try:
            st = os.stat(target)
        except OSError as exc:
            return f"{target}: {exc.strerror}"
        want = (5 if list_directory else 1) if stat.S_ISDIR(st.st_mode) else 4
        if not self._may(st, want):
            return f"{target} is not readable by {self.name}"
        return None


def check_worker_user(name: str, state_dir: Path | None, worker_script: Path, python: str) -> WorkerUser:
    """Resolve `--worker-user` at start: ValueError unless the user exists and can read the interpreter,
    the worker bootstrap and (when known) the directory function code is unpacked into."""
    user = WorkerUser.resolve(name)
    needed = [
        ("the Python interpreter (choose one it can run with --worker-python)", Path(python), True),
        ("the worker bootstrap", worker_script, True),
    ]
    if state_dir is not None:
        needed.append(("the directory function code is unpacked into", state_dir, False))  # passed through
    for what, path, listed in needed:
        problem = user.cannot_read(path, list_directory=listed)
        if problem is not None:
            raise ValueError(f"--worker-user {name} cannot read {what}: {problem}")
    return user
