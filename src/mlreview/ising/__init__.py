"""2D and 1D Ising models: Monte Carlo kernels, exact results, data sets."""
