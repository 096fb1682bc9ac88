"""Sections IX-X: deep networks on MNIST (Figs 37, 38; the optimizer comparison; a CNN), SUSY
(Fig 40) and the Ising phases (Figs 41, 45)."""
