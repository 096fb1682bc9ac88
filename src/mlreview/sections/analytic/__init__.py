"""Figures computed from formulas: ridge and LASSO shrinkage (Fig 12), activation functions
(Fig 36), forward and reverse KL divergences (Figs 69, 70)."""
