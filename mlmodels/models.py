"""Versioned ML classifiers per company (see issue: ML classifier)."""
