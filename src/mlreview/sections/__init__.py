"""The review's sections, one package each, named like the section's rule file
(`workflow/rules/<section>.smk`), its registry (`workflow/report/sections/<section>.yaml`) and its
config section. A section holds the compute and plotting steps of its figures and imports only the
shared layers below it (`mlreview.data`, `mlreview.ising`, `mlreview.nn`, `mlreview.ebm`, ...),
never another section (`tests/test_architecture.py`)."""
