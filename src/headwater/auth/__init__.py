"""Identity and access: SigV4 verification, credentials and principals, IAM policy evaluation, and the
authorization checks each DynamoDB request needs. Pure: no HTTP, no storage (see README.md)."""
