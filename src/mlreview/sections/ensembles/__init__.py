"""Section VIII: bagging (Fig 30), trees, forests and boosting on Iris (Fig 32), random forests on
the Ising phases (Fig 33), XGBoost on SUSY (Fig 34), and the variance of an ensemble average."""
