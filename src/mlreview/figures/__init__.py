"""Plotting: one style (:mod:`mlreview.figures.style`) and one module per section."""
