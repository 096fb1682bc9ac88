# The scorecard (every reproduced number against the review's), the scorecard of the claims
# about one figure (results/scorecards/<figure>.csv: builds only that part of the DAG), the
# project's HTML report, and the figure captions of Snakemake's own report
# (`snakemake --report`, whose items are the figures, the scorecard and the HTML report).
# Code: mlreview.report.


rule scorecard:
    """The scorecard: every claim, its reproduced value and its status."""
    input:
        sections=[str(p) for p in SECTIONS],
        metrics=all_metrics(),
    output:
        csv=report(
            res("scorecard.csv"),
            caption="../report/scorecard.rst",
            category=OVERVIEW,
            labels={
                "figure": "Scorecard",
                "title": "Every claim of the review, checked",
            },
        ),
        md=res("scorecard.md"),
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        STEP


rule figure_scorecard:
    """The scorecard of the claims about one figure (only that part of the DAG is built)."""
    input:
        sections=[str(p) for p in SECTIONS],
        metrics=lambda w: figure_claim_metrics(w.figure),
    output:
        csv=res("scorecards/{figure}.csv"),
        md=res("scorecards/{figure}.md"),
    wildcard_constraints:
        figure="|".join(claimed_figures()),
    resources:
        mem_mb=500,
        runtime=5,
    params:
        json=lambda w: as_json({"figures": [claimed_figures()[w.figure]]}),
    shell:
        STEP


rule report:
    """The HTML report: every figure with its caption, parameters, deviations and claims."""
    input:
        sections=[str(p) for p in SECTIONS],
        metrics=all_metrics(),
        figures=[f for f in all_figures() if f.endswith(".png")],
        scorecard=rules.scorecard.output.csv,
    output:
        html=report(
            res("report.html"),
            caption="../report/report_page.rst",
            category=OVERVIEW,
            labels={
                "figure": "Report page",
                "title": "The project's page: figures, parameters, claims, run times",
            },
        ),
    resources:
        mem_mb=500,
        runtime=5,
    params:
        json=as_json({"benchmarks": res("benchmarks"), "config": config}),
    shell:
        STEP


rule report_captions:
    """The caption of every figure in Snakemake's report, from the registry."""
    input:
        sections=[str(p) for p in SECTIONS],
    output:
        captions=directory(res("report/captions")),
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        STEP
