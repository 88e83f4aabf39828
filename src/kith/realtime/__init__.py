"""Real-time delivery: the hub that hands committed events to the process's listeners."""
