# Section XII: dimensional reduction and data visualisation - PCA of the Ising states (Fig 51),
# four views of a Gaussian mixture (Fig 53), MNIST by PCA and t-SNE (Fig 54).
# Code: mlreview.sections.dimensionality_reduction.

DIMRED = config["dimensionality_reduction"]


rule ising_pca:
    """Fig 51: PCA of the Ising states of every temperature."""
    input:
        dataset=ISING2D,
    output:
        data=res("dimensionality_reduction/fig51.npz"),
        metrics=res("metrics/fig51.json"),
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        json=as_json(compute_params(DIMRED["fig51"])),
    shell:
        STEP


rule gaussian_mixture_views:
    """Fig 53: a Gaussian mixture in 40 D seen raw, by random projection, PCA and t-SNE."""
    output:
        data=res("dimensionality_reduction/fig53.npz"),
        metrics=res("metrics/fig53.json"),
    threads: DIMRED["fig53"]["threads"]
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        json=as_json(compute_params(DIMRED["fig53"])),
    shell:
        STEP


rule mnist_embed:
    """Fig 54: MNIST by PCA and by t-SNE (after PCA to 40 D, and on the raw pixels)."""
    input:
        npz=MNIST,
    output:
        data=res("dimensionality_reduction/fig54.npz"),
        metrics=res("metrics/fig54.json"),
    threads: DIMRED["fig54"]["threads"]
    resources:
        mem_mb=6000,
        runtime=60,
    params:
        json=as_json(compute_params(DIMRED["fig54"])),
    shell:
        STEP


rule fig51_plot:
    """Fig 51: PC1 vs PC2 by temperature, the spectrum and the PC1 loadings."""
    input:
        data=rules.ising_pca.output.data,
    output:
        pdf=res("figures/fig51.pdf"),
        png=figure_png("fig51"),
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        json=as_json(DIMRED["fig51"]),
    shell:
        STEP


rule fig53_plot:
    """Fig 53: the four views of the mixture."""
    input:
        data=rules.gaussian_mixture_views.output.data,
    output:
        pdf=res("figures/fig53.pdf"),
        png=figure_png("fig53"),
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        json=as_json(DIMRED["fig53"]),
    shell:
        STEP


rule fig54_plot:
    """Fig 54: the MNIST embeddings coloured by digit."""
    input:
        data=rules.mnist_embed.output.data,
    output:
        pdf=res("figures/fig54.pdf"),
        png=figure_png("fig54"),
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        json=as_json(DIMRED["fig54"]),
    shell:
        STEP
