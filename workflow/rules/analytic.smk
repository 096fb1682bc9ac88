# Formula-only figures: 12 (ridge/LASSO shrinkage), 36 (activation functions), 69 and 70
# (forward and reverse KL divergences). Code: mlreview.sections.analytic.


rule shrinkage_compute:
    """Fig 12: ridge and LASSO shrinkage of the least-squares estimate."""
    output:
        data=res("analytic/fig12.npz"),
        metrics=res("metrics/fig12.json"),
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        json=as_json(compute_params(analytic_params("fig12"))),
    shell:
        STEP


rule activations_compute:
    """Fig 36: the activation functions and their derivatives."""
    output:
        data=res("analytic/fig36.npz"),
        metrics=res("metrics/fig36.json"),
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        json=as_json(compute_params(analytic_params("fig36"))),
    shell:
        STEP


rule kl_divergence_compute:
    """Figs 69, 70: Gaussians fitted to a mixture by forward and reverse KL divergence."""
    output:
        data=res("analytic/{fig}.npz"),
        metrics=res("metrics/{fig}.json"),
    wildcard_constraints:
        fig="|".join(KL_FIGURES),
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        json=lambda w: as_json(compute_params(analytic_params(w.fig))),
    shell:
        STEP


rule fig12_plot:
    """Fig 12: the shrunken estimates against the least-squares one."""
    input:
        data=rules.shrinkage_compute.output.data,
    output:
        pdf=res("figures/fig12.pdf"),
        png=figure_png("fig12"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(analytic_params("fig12")),
    shell:
        STEP


rule fig36_plot:
    """Fig 36: the activation functions, saturating and not."""
    input:
        data=rules.activations_compute.output.data,
    output:
        pdf=res("figures/fig36.pdf"),
        png=figure_png("fig36"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(analytic_params("fig36")),
    shell:
        STEP


rule kl_divergence_plot:
    """Figs 69, 70: the data density and the two fitted Gaussians."""
    input:
        data=rules.kl_divergence_compute.output.data,
    output:
        pdf=res("figures/{fig}.pdf"),
        png=figure_png("{fig}"),
    wildcard_constraints:
        fig="|".join(KL_FIGURES),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=lambda w: as_json(analytic_params(w.fig)),
    shell:
        STEP
