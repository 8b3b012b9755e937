"""The shared log layer: an ordered, durable log of records read by cursors.

DynamoDB Streams (`headwater.streams`) and Kinesis Data Streams (`headwater.kinesis`) both stand on it:
one storage table for records (numbered by the single writer), shard boundaries as marker records in a
control slot (`markers`, `layout`), one shard read bounded by the commit ceiling (`pages`), stateless
HMAC-signed iterator tokens (`tokens`, `secret`) and one retention trim with a retention per log
(`retention`). What a record looks like on the wire, how sequence numbers and shard ids are spelled and
which API reads them is each dialect's own business.
"""
