"""Section IV: gradient descent and its variants on a quadratic bowl and on Beale's function
(Figs 7, 9), with the hand-written optimizers of :mod:`mlreview.optimizers`."""
