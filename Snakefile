# Reproduction of Mehta et al., "A high-bias, low-variance introduction to Machine
# Learning for physicists", Physics Reports 810 (2019). See README.md.
#
#   snakemake --cores all                                # paper scale
#   snakemake --cores all --configfile config/small.yaml # small scale (minutes)
#   snakemake --report results/snakemake-report.html     # Snakemake's report, after a run
#
# This file only wires things together: rules live in workflow/rules/, all logic in
# src/mlreview/.

import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

# The package's helpers used while the workflow is parsed come from the source beside this file
# (they need only the standard library, yaml and jsonschema, which Snakemake has): Snakemake's own
# environment needs nothing more, and the steps run in theirs (with
# --software-deployment-method conda, those of workflow/envs/).
sys.path.insert(0, str(Path(workflow.basedir, "src")))

from mlreview import runlock, scheduling
from mlreview.config_checks import ConfigError, check, libyaml_config_files, validate

min_version("9.19")

# What the `configfile:` directive does, with libyaml's parser in place of PyYAML's pure-Python one
# (the same document; 0.2 s of every Snakemake call, a run with nothing to do included).
with libyaml_config_files():
    workflow.configfile("config/config.yaml")

# The config against the schema, then the checks between keys: one short message naming the key.
try:
    validate(config, "workflow/schemas/config.schema.yaml")
    check(config)
except ConfigError as err:
    raise WorkflowError(str(err)) from None

# Two runs in one folder: refuse --unlock while another Snakemake runs here, and say whose a lock is.
try:
    note = runlock.check(".", sys.argv)
except RuntimeError as err:
    raise WorkflowError(str(err)) from None
if note:
    print(note, file=sys.stderr)

# Snakemake's scheduler adds a timer that wakes it every second for each job it starts (its CPU grows
# with the number of jobs run): at most one pending timer (mlreview/scheduling.py).
scheduling.bound_reevaluations()


# The front page of Snakemake's report (`snakemake --report`).
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/polynomial.smk"
include: "workflow/rules/gradient_descent.smk"
include: "workflow/rules/analytic.smk"
include: "workflow/rules/ising.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/linear_regression.smk"
include: "workflow/rules/logistic_regression.smk"
include: "workflow/rules/ensembles.smk"
include: "workflow/rules/deep_networks.smk"
include: "workflow/rules/dimensionality_reduction.smk"
include: "workflow/rules/clustering.smk"
include: "workflow/rules/mean_field.smk"
include: "workflow/rules/energy_based.smk"
include: "workflow/rules/vae.smk"
include: "workflow/rules/learning_theory.smk"
include: "workflow/rules/energy_landscapes.smk"
include: "workflow/rules/report.smk"


# Every rule runs the step of its name: its command, log, benchmark and environment follow from
# the name (workflow/rules/common.smk).
step_rules()


# Cheap rules run where Snakemake runs, never as cluster jobs: the target, the scorecards,
# the report, and every drawing rule (named `*_plot`).
localrules:
    all,
    scorecard,
    figure_scorecard,
    report,
    report_captions,


workflow.localrules(*plot_rules())


rule all:
    """Every figure of the registry, the data sets' checks, the scorecard and both reports' inputs."""
    default_target: True
    input:
        figures=all_figures(),
        datasets=all_datasets(),
        scorecard=rules.scorecard.output,
        report=rules.report.output,
        captions=rules.report_captions.output,
