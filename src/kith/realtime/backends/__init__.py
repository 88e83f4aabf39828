"""How news of committed events crosses processes: ``memory`` (none) or ``redis``."""
