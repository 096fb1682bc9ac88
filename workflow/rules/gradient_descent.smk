# Section IV: gradient descent and its generalisations (Figs 7 and 9).

#: figure -> the step computing it; "<step>-plot" draws it.
GD_STEPS = {"fig07": "gd-quadratic", "fig09": "gd-beale"}


rule gradient_descent_run:
    output:
        data=res("gradient_descent/{fig}.npz"),
        metrics=res("metrics/{fig}.json"),
    log:
        res("logs/gradient_descent_run/{fig}.log"),
    benchmark:
        res("benchmarks/gradient_descent_run/{fig}.tsv")
    wildcard_constraints:
        fig="|".join(GD_STEPS),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        step=lambda w: GD_STEPS[w.fig],
        json=lambda w: as_json(compute_params(config["gradient_descent"][w.fig])),
    shell:
        "python -m mlreview {params.step} --threads {threads}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule gradient_descent_plot:
    input:
        data=rules.gradient_descent_run.output.data,
    output:
        pdf=res("figures/{fig}.pdf"),
        png=res("figures/{fig}.png"),
    log:
        res("logs/gradient_descent_plot/{fig}.log"),
    benchmark:
        res("benchmarks/gradient_descent_plot/{fig}.tsv")
    wildcard_constraints:
        fig="|".join(GD_STEPS),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        step=lambda w: f"{GD_STEPS[w.fig]}-plot",
        json=lambda w: as_json(config["gradient_descent"][w.fig]),
    shell:
        "python -m mlreview {params.step} --input data={input.data:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"
