"""The domain: values, errors and rules of Kith. Imports nothing of Kith and does no I/O."""
