# Section II: fitting vs predicting with polynomial models (Figs 1-3).


rule polynomial_fit:
    output:
        data=res("polynomial/{fig}.npz"),
        metrics=res("metrics/{fig}.json"),
    log:
        res("logs/polynomial_fit/{fig}.log"),
    benchmark:
        res("benchmarks/polynomial_fit/{fig}.tsv")
    wildcard_constraints:
        fig="fig0[123]",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        json=lambda w: as_json(compute_params(polynomial_params(w.fig))),
    shell:
        "python -m mlreview polynomial-fit --threads {threads}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule polynomial_plot:
    input:
        data=rules.polynomial_fit.output.data,
    output:
        pdf=res("figures/{fig}.pdf"),
        png=res("figures/{fig}.png"),
    log:
        res("logs/polynomial_plot/{fig}.log"),
    benchmark:
        res("benchmarks/polynomial_plot/{fig}.tsv")
    wildcard_constraints:
        fig="fig0[123]",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=lambda w: as_json(polynomial_params(w.fig)),
    shell:
        "python -m mlreview polynomial-plot --input data={input.data:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"
