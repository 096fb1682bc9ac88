# Section II: fitting vs predicting with polynomial models (Figs 1-3).
# Code: mlreview.sections.polynomial. Log, benchmark and command follow from each rule's name
# (common.smk, step_rules).


rule polynomial_fit:
    """Figs 1-3: polynomial fits of one training set and their test errors."""
    output:
        data=res("polynomial/{fig}.npz"),
        metrics=res("metrics/{fig}.json"),
    wildcard_constraints:
        fig="fig0[123]",
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        json=lambda w: as_json(compute_params(polynomial_params(w.fig))),
    shell:
        STEP


rule polynomial_plot:
    """Figs 1-3: the fits over the training data and their extrapolation."""
    input:
        data=rules.polynomial_fit.output.data,
    output:
        pdf=res("figures/{fig}.pdf"),
        png=figure_png("{fig}"),
    wildcard_constraints:
        fig="fig0[123]",
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=lambda w: as_json(polynomial_params(w.fig)),
    shell:
        STEP
