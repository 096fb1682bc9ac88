"""PyTorch models and the shared training loop (Sections VII, IX, X, XVII)."""
