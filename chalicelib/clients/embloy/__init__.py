"""Embloy quicklink client."""
