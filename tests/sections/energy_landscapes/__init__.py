"""Tests of the energy-landscape section (Hopfield memory, annealing, block-spin RG)."""
