"""Headwater's benchmark (see README.md); run it with `make bench` or `python bench/run.py`."""
