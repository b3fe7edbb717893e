"""Deployment tooling (not packaged into Lambda): renders the merge template for `chalice package`."""
