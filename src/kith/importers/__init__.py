"""Importers: turn mail, chat exports and edge lists into typed interaction records.
Pure parsing; the loader in ``kith.actions`` writes what they produce."""
