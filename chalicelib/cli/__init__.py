"""Operator command line: `python -m chalicelib.cli <group> ...` (plain boto3, configured by environment)."""
