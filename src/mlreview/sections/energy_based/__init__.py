"""Sections XV-XVI: energy-based models - RBMs and DBMs on MNIST (Figs 60, 64, 65), DBMs on the
Ising states (Figs 66-68) and the exact-likelihood studies, on the machinery of :mod:`mlreview.ebm`."""
