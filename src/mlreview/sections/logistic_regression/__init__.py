"""Section VII: logistic regression on the Ising phases (Fig 21), on SUSY (Figs 22, 23, 25) and
softmax regression on MNIST (Fig 27)."""
