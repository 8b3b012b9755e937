"""Kinesis Data Streams operations, one module each (`Kinesis_20131202.<Operation>`, JSON 1.1)."""
