"""The package version (read by the build backend too: keep it a plain string literal)."""

__version__ = "0.1.0"
