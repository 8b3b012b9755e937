"""Lambda-compatible functions and event source mappings on DynamoDB streams.

Kept free of imports: the worker bootstrap (`python -m headwater.triggers.worker`) starts from here.
"""
