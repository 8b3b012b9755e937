"""Sinks: a table's changes delivered elsewhere (NATS JetStream), read through the consumer library with a
durable checkpoint. At-least-once; the publisher de-duplicates by message id where the target can."""
