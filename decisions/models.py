"""Decisions on transactions: rules -> ML -> LLM -> human review (see issue: decision engine)."""
