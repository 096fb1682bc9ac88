# Section VI: linear regression - ridge and LASSO on the diabetes data (Figs 14, 15) and OLS,
# ridge and LASSO learning the 1D Ising couplings (Figs 16, 17).
# Code: mlreview.sections.linear_regression.

LINREG = config["linear_regression"]


rule diabetes_fit:
    """Figs 14, 15: ridge and LASSO on the diabetes data over the lambda grid."""
    output:
        data=res("linear_regression/diabetes.npz"),
        metrics=res("metrics/diabetes.json"),
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        json=as_json(compute_params(LINREG["diabetes"])),
    shell:
        STEP


rule ising1d_regression:
    """Figs 16, 17: OLS, ridge and LASSO learning the 1D Ising couplings."""
    input:
        chains=rules.ising1d_chains.output.data,
        diabetes=rules.diabetes_fit.output.metrics,
    output:
        data=res("linear_regression/ising1d.npz"),
        metrics=res("metrics/ising1d_regression.json"),
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        json=as_json(compute_params(LINREG["ising1d"])),
    shell:
        STEP


rule fig14_plot:
    """Fig 14: train and test R^2 of ridge and LASSO against lambda."""
    input:
        data=rules.diabetes_fit.output.data,
    output:
        pdf=res("figures/fig14.pdf"),
        png=figure_png("fig14"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(LINREG["diabetes"]),
    shell:
        STEP


rule fig15_plot:
    """Fig 15: the ridge and LASSO regularisation paths."""
    input:
        data=rules.diabetes_fit.output.data,
    output:
        pdf=res("figures/fig15.pdf"),
        png=figure_png("fig15"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(LINREG["diabetes"]),
    shell:
        STEP


rule fig16_plot:
    """Fig 16: train and test R^2 of OLS, ridge and LASSO against lambda."""
    input:
        data=rules.ising1d_regression.output.data,
    output:
        pdf=res("figures/fig16.pdf"),
        png=figure_png("fig16"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(LINREG["ising1d"]),
    shell:
        STEP


rule fig17_plot:
    """Fig 17: the learned coupling matrices."""
    input:
        data=rules.ising1d_regression.output.data,
    output:
        pdf=res("figures/fig17.pdf"),
        png=figure_png("fig17"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(LINREG["ising1d"]),
    shell:
        STEP
