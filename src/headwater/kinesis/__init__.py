"""Kinesis Data Streams over the log layer: streams, shards with hash-key ranges, records, iterators."""
