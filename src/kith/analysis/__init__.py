"""Network analysis: from interactions to communities, roles and information flow. Pure
computation over plain data; it imports nothing of Kith but the domain."""
