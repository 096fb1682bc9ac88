"""Beyond the review, part 2: associative memory and glassy energy landscapes.

The review maps Gaussian-hidden RBMs onto Hopfield models (its Section XV) but never shows what
a Hopfield network does, nor how a landscape with many minima is searched. This section does,
each result against a known one:

* :mod:`.hopfield` - Hebbian associative memory: the storage capacity alpha_c ~ 0.138 (Amit,
  Gutfreund & Sompolinsky 1985), basins of attraction, retrieval at finite temperature against
  mean-field theory m = tanh(m/T), the symmetric three-pattern mixture (stable below T ~ 0.46),
  and binarised MNIST digits as (badly stored, because correlated) patterns;
* :mod:`.annealing` - simulated annealing of the Sherrington-Kirkpatrick spin glass against
  greedy quenches and the Parisi ground-state energy -0.7633, and the Arrhenius law of
  magnetisation reversals of a small 2D Ising lattice (with the project's Metropolis kernel);
* :mod:`.renormalisation` - majority-rule block-spin renormalisation of the project's 2D Ising
  data: flows to the ordered and disordered fixed points and the Binder-cumulant crossing at Tc;
* :mod:`.kernels` - the numba kernels (dense-coupling Metropolis/greedy sweeps; Glauber dynamics
  in the pattern representation), on the project's xoshiro256+ streams;
* :mod:`.plots` - the figures.
"""
