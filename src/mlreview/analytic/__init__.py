"""Closed-form and one-dimensional numerical results behind the analytic figures (12, 36, 69, 70)."""
