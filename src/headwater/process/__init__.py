"""How `headwater serve` runs: one process, or a core process (the writer) and front processes."""
