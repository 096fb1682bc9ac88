"""Section XVII: variational autoencoders on MNIST and the Ising states (Figs 75-78), their training
curves and importance-sampled likelihoods."""
