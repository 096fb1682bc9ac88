"""Section VI: ridge and LASSO on the diabetes data (Figs 14, 15) and on the 1D Ising energies
(Figs 16, 17)."""
