# SPDX-License-Identifier: Apache-2.0
"""The package version (read by the build backend too: keep it a plain string literal)."""

# BEGIN GENERATED abi:python-version (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this)
__version__ = "0.1.0"
# END GENERATED abi:python-version
