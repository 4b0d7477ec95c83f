"""Vendor rules: conditions on bank lines that decide their account (see issue: rules engine)."""
