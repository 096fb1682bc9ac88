"""Section XIV: EM for two coins and the mean-field Ising model (project figures)."""
