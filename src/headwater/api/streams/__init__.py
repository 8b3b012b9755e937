"""The DynamoDB Streams operations, one module each."""
