"""mlreview: a reproduction of Mehta et al., Physics Reports 810 (2019).

All logic of the Snakemake workflow lives in this package. Modules are small and
importable without side effects; each workflow step is a function registered in
:mod:`mlreview.cli` and can be run by hand with ``python -m mlreview STEP ...``.
"""

__version__ = "0.1.0"
