# Formula-only figures: 12 (ridge/LASSO shrinkage), 36 (activation functions),
# 69 and 70 (forward and reverse KL divergences).

#: figure -> the step computing it; "<step>-plot" draws it.
ANALYTIC_STEPS = {
    "fig12": "shrinkage",
    "fig36": "activations",
    "fig69": "kl-divergence",
    "fig70": "kl-divergence",
}


rule analytic_compute:
    output:
        data=res("analytic/{fig}.npz"),
        metrics=res("metrics/{fig}.json"),
    log:
        res("logs/analytic_compute/{fig}.log"),
    benchmark:
        res("benchmarks/analytic_compute/{fig}.tsv")
    wildcard_constraints:
        fig="|".join(ANALYTIC_STEPS),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        step=lambda w: ANALYTIC_STEPS[w.fig],
        json=lambda w: as_json(compute_params(analytic_params(w.fig))),
    shell:
        "python -m mlreview {params.step} --threads {threads}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule analytic_plot:
    input:
        data=rules.analytic_compute.output.data,
    output:
        pdf=res("figures/{fig}.pdf"),
        png=res("figures/{fig}.png"),
    log:
        res("logs/analytic_plot/{fig}.log"),
    benchmark:
        res("benchmarks/analytic_plot/{fig}.tsv")
    wildcard_constraints:
        fig="|".join(ANALYTIC_STEPS),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        step=lambda w: f"{ANALYTIC_STEPS[w.fig]}-plot",
        json=lambda w: as_json(analytic_params(w.fig)),
    shell:
        "python -m mlreview {params.step} --input data={input.data:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"
