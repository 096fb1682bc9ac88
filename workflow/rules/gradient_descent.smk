# Section IV: gradient descent and its generalisations (Figs 7 and 9).
# Code: mlreview.sections.gradient_descent (the optimizers: mlreview.optimizers).


rule gradient_descent_quadratic:
    """Fig 7: gradient descent on a quadratic bowl in four learning-rate regimes."""
    output:
        data=res("gradient_descent/fig07.npz"),
        metrics=res("metrics/fig07.json"),
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        json=as_json(compute_params(config["gradient_descent"]["fig07"])),
    shell:
        STEP


rule gradient_descent_beale:
    """Fig 9: GD, momentum, NAG, RMSprop and ADAM on Beale's function."""
    output:
        data=res("gradient_descent/fig09.npz"),
        metrics=res("metrics/fig09.json"),
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        json=as_json(compute_params(config["gradient_descent"]["fig09"])),
    shell:
        STEP


rule fig07_plot:
    """Fig 7: the trajectories over the contours of the bowl."""
    input:
        data=rules.gradient_descent_quadratic.output.data,
    output:
        pdf=res("figures/fig07.pdf"),
        png=figure_png("fig07"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(config["gradient_descent"]["fig07"]),
    shell:
        STEP


rule fig09_plot:
    """Fig 9: the trajectories over the contours of Beale's function."""
    input:
        data=rules.gradient_descent_beale.output.data,
    output:
        pdf=res("figures/fig09.pdf"),
        png=figure_png("fig09"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(config["gradient_descent"]["fig09"]),
    shell:
        STEP
