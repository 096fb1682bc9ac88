"""Beyond the review, part 1: the statistical physics of learning, each result against its exact theory.

Four project figures, none of them in the review (which stops in 2019):

- ``interpolation_peak``: the minimum-norm least-squares fit blows up when the number of samples n
  equals the number of features p (exact finite-n risk of the isotropic Gaussian design; the
  heavy tail at n = p; the 1D Ising energy regression of Figs 16-17, whose design has rank 781;
  ridge-as-classifier against logistic regression on SUSY and MNIST) - :mod:`.interpolation`,
  :mod:`.ising_interpolation`, :mod:`.classifiers`;
- ``double_descent``: random ReLU features on MNIST, test error against the number of features,
  peaked at N = n and falling again beyond - :mod:`.double_descent`;
- ``perceptron_capacity``: Cover's count of linearly separable dichotomies and Gardner's maximal
  stability - :mod:`.perceptron`;
- ``teacher_student``: generalisation of perceptron students of a perceptron teacher (Hebb's exact
  overlap, the replica theory of the maximal-stability student, and Gibbs learning with binary
  weights by exhaustive enumeration) - :mod:`.teacher_student`, :mod:`.binary_perceptron`.

Drawing is in :mod:`.plots`. Every step function is named like the workflow rule that runs it.
"""
