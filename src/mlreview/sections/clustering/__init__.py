"""Section XIII: K-means (Fig 55), hierarchical clustering (Fig 56), DBSCAN (Fig 57) and a Gaussian
mixture fitted by EM to the Ising PC1 (Fig 58)."""
