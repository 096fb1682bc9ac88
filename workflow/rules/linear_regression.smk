# Section VI: linear regression - ridge and LASSO on the diabetes data (Figs 14, 15)
# and OLS, ridge and LASSO learning the 1D Ising couplings (Figs 16, 17).

#: figure -> the step drawing it from its section's fit
LINREG_PLOTS = {
    "fig14": "diabetes-r2-plot",
    "fig15": "diabetes-paths-plot",
    "fig16": "ising1d-r2-plot",
    "fig17": "ising1d-couplings-plot",
}
#: figure -> (config section, fit output)
LINREG_FITS = {
    "fig14": "diabetes",
    "fig15": "diabetes",
    "fig16": "ising1d",
    "fig17": "ising1d",
}


rule diabetes_fit:
    output:
        data=res("linear_regression/diabetes.npz"),
        metrics=res("metrics/diabetes.json"),
    log:
        res("logs/diabetes_fit/diabetes.log"),
    benchmark:
        res("benchmarks/diabetes_fit/diabetes.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        json=as_json(compute_params(config["linear_regression"]["diabetes"])),
    shell:
        "python -m mlreview diabetes-fit --threads {threads}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ising1d_regression:
    input:
        chains=rules.ising1d_chains.output.data,
        diabetes=rules.diabetes_fit.output.metrics,
    output:
        data=res("linear_regression/ising1d.npz"),
        metrics=res("metrics/ising1d_regression.json"),
    log:
        res("logs/ising1d_regression/ising1d.log"),
    benchmark:
        res("benchmarks/ising1d_regression/ising1d.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        json=as_json(compute_params(config["linear_regression"]["ising1d"])),
    shell:
        "python -m mlreview ising1d-regression --threads {threads}"
        " --input chains={input.chains:q} diabetes={input.diabetes:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule linear_regression_plot:
    input:
        data=lambda w: res(f"linear_regression/{LINREG_FITS[w.fig]}.npz"),
    output:
        pdf=res("figures/{fig}.pdf"),
        png=res("figures/{fig}.png"),
    log:
        res("logs/linear_regression_plot/{fig}.log"),
    benchmark:
        res("benchmarks/linear_regression_plot/{fig}.tsv")
    wildcard_constraints:
        fig="|".join(LINREG_PLOTS),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        step=lambda w: LINREG_PLOTS[w.fig],
        json=lambda w: as_json(config["linear_regression"][LINREG_FITS[w.fig]]),
    shell:
        "python -m mlreview {params.step} --input data={input.data:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"
