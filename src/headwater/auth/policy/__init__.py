"""IAM policies: documents (document.py), conditions (conditions.py), wildcards and variables, and the
evaluation that decides a request (evaluate.py)."""

from headwater.auth.policy.document import Policy, PolicyKind, Statement, parse_policy
from headwater.auth.policy.errors import PolicyError
from headwater.auth.policy.evaluate import Decision, Reason, ResourcePolicy, evaluate

__all__ = [
    "Decision",
    "Policy",
    "PolicyError",
    "PolicyKind",
    "Reason",
    "ResourcePolicy",
    "Statement",
    "evaluate",
    "parse_policy",
]
