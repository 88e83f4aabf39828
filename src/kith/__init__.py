"""Kith: find the real communities in an organisation and help information move through them."""

__version__ = "0.1.0"
