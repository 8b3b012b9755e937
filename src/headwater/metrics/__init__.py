"""Prometheus metrics (`GET /metrics`): plain counters kept where the work happens, rendered by one
collector at scrape time (docs/architecture.md, "Metrics")."""
