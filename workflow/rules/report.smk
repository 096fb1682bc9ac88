# The scorecard (every reproduced number against the review's), the scorecard of the claims
# about one figure (results/scorecards/<figure>.csv: builds only that part of the DAG) and
# the HTML report.


rule scorecard:
    input:
        sections=[str(p) for p in SECTIONS],
        metrics=all_metrics(),
    output:
        csv=res("scorecard.csv"),
        md=res("scorecard.md"),
    log:
        res("logs/scorecard/scorecard.log"),
    benchmark:
        res("benchmarks/scorecard/scorecard.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        inputs=lambda w, input: " ".join(
            [
                cli_pairs("sections", input.sections),
                cli_pairs("metrics", input.metrics),
            ]
        ),
    shell:
        "python -m mlreview scorecard --input {params.inputs}"
        " --output csv={output.csv:q} md={output.md:q} > {log:q} 2>&1"


rule figure_scorecard:
    input:
        sections=[str(p) for p in SECTIONS],
        metrics=lambda w: figure_claim_metrics(w.figure),
    output:
        csv=res("scorecards/{figure}.csv"),
        md=res("scorecards/{figure}.md"),
    log:
        res("logs/figure_scorecard/{figure}.log"),
    benchmark:
        res("benchmarks/figure_scorecard/{figure}.tsv")
    wildcard_constraints:
        figure="|".join(claimed_figures()),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        inputs=lambda w, input: " ".join(
            [
                cli_pairs("sections", input.sections),
                cli_pairs("metrics", input.metrics),
            ]
        ),
        json=lambda w: as_json({"figures": [claimed_figures()[w.figure]]}),
    shell:
        "python -m mlreview scorecard --input {params.inputs}"
        " --output csv={output.csv:q} md={output.md:q} --params {params.json:q} > {log:q} 2>&1"


rule report:
    input:
        sections=[str(p) for p in SECTIONS],
        metrics=all_metrics(),
        figures=[f for f in all_figures() if f.endswith(".png")],
        scorecard=rules.scorecard.output.csv,
    output:
        html=res("report.html"),
    log:
        res("logs/report/report.log"),
    benchmark:
        res("benchmarks/report/report.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        inputs=lambda w, input: " ".join(
            [
                cli_pairs("sections", input.sections),
                cli_pairs("metrics", input.metrics),
                cli_pairs("figures", input.figures),
            ]
        ),
        json=as_json({"benchmarks": res("benchmarks"), "config": config}),
    shell:
        "python -m mlreview report --input {params.inputs}"
        " scorecard={input.scorecard:q} --output html={output.html:q}"
        " --params {params.json:q} > {log:q} 2>&1"
