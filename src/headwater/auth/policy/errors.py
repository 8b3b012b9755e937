"""The one error policy parsing raises."""

from __future__ import annotations


class PolicyError(ValueError):
    """A policy document IAM would refuse (MalformedPolicyDocument); `path` names the element."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{message} ({path})" if path else message)
        self.message = message
        self.path = path
