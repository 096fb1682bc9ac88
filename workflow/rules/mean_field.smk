# Section XIV: variational methods and mean-field theory - EM for two biased coins (spec 4.1)
# and the mean-field Ising model against Onsager and the Monte Carlo data (spec 4.2). Both are
# project figures (the review's Fig 59 is a schematic). Code: mlreview.sections.mean_field.

MEAN_FIELD = config["mean_field"]


rule em_coins:
    """Project figure em_coins: EM for two biased coins over many seeds."""
    output:
        data=res("mean_field/em_coins.npz"),
        metrics=res("metrics/em_coins.json"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(MEAN_FIELD["em_coins"]),
    shell:
        STEP


rule mean_field_solve:
    """Project figure mean_field: the mean-field m(T) of the square lattice and of the chain."""
    input:
        validation=res("ising/validation.npz"),
    output:
        data=res("mean_field/mean_field.npz"),
        metrics=res("metrics/mean_field.json"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(MEAN_FIELD["ising"]),
    shell:
        STEP


rule em_coins_plot:
    """Project figure em_coins: log-likelihood per iteration, EM vs complete-data estimates."""
    input:
        data=rules.em_coins.output.data,
    output:
        pdf=res("figures/em_coins.pdf"),
        png=figure_png("em_coins"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(MEAN_FIELD["em_coins"]),
    shell:
        STEP


rule mean_field_plot:
    """Project figure mean_field: m(T) against Onsager and the Monte Carlo data."""
    input:
        data=rules.mean_field_solve.output.data,
    output:
        pdf=res("figures/mean_field.pdf"),
        png=figure_png("mean_field"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(MEAN_FIELD["ising"]),
    shell:
        STEP
