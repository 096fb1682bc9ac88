"""Small torch models of the project (one class per architecture, built from config values)."""

from __future__ import annotations

import torch
from torch import nn


class LogisticRegression(nn.Module):
    """Binary logistic regression: one linear layer giving the logit of P(class 1).

    Weights and bias start at zero (the authors' SUSY notebook). The sigmoid is applied exactly
    once, by the loss (``BCEWithLogitsLoss``) or by the caller when it wants probabilities.
    """

    def __init__(self, n_features: int, zero_init: bool = True):
        super().__init__()
        self.linear = nn.Linear(int(n_features), 1)
        if zero_init:
            nn.init.zeros_(self.linear.weight)
            nn.init.zeros_(self.linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).squeeze(-1)
