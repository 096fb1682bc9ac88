"""Section XII: PCA of the Ising states (Fig 51), a Gaussian mixture seen by PCA and t-SNE (Fig 53),
MNIST by PCA and t-SNE (Fig 54)."""
