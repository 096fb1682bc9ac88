"""Section II: polynomial regression and the bias-variance picture (Figs 1-3)."""
