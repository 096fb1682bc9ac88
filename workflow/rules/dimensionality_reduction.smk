# Section XII: dimensional reduction and data visualisation - PCA of the Ising states
# (Fig 51), four views of a Gaussian mixture (Fig 53), MNIST by PCA and t-SNE (Fig 54).

#: figures of this section (each drawn by the step "<fig>-plot")
DIMENSIONALITY_REDUCTION_FIGURES = ["fig51", "fig53", "fig54"]


rule ising_pca:
    input:
        dataset=rules.ising2d_assemble.output.dataset,
    output:
        data=res("dimensionality_reduction/fig51.npz"),
        metrics=res("metrics/fig51.json"),
    log:
        res("logs/ising_pca/fig51.log"),
    benchmark:
        res("benchmarks/ising_pca/fig51.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        json=as_json(compute_params(config["dimensionality_reduction"]["fig51"])),
    shell:
        "python -m mlreview ising-pca --input dataset={input.dataset:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule gaussian_mixture_views:
    output:
        data=res("dimensionality_reduction/fig53.npz"),
        metrics=res("metrics/fig53.json"),
    log:
        res("logs/gaussian_mixture_views/fig53.log"),
    benchmark:
        res("benchmarks/gaussian_mixture_views/fig53.tsv")
    conda:
        ENV
    threads: config["dimensionality_reduction"]["fig53"]["threads"]
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        json=as_json(compute_params(config["dimensionality_reduction"]["fig53"])),
    shell:
        "python -m mlreview gaussian-mixture-views --threads {threads}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule mnist_embed:
    input:
        npz=rules.mnist_prepare.output.npz,
    output:
        data=res("dimensionality_reduction/fig54.npz"),
        metrics=res("metrics/fig54.json"),
    log:
        res("logs/mnist_embed/fig54.log"),
    benchmark:
        res("benchmarks/mnist_embed/fig54.tsv")
    conda:
        ENV
    threads: config["dimensionality_reduction"]["fig54"]["threads"]
    resources:
        mem_mb=6000,
        runtime=60,
    params:
        json=as_json(compute_params(config["dimensionality_reduction"]["fig54"])),
    shell:
        "python -m mlreview mnist-embed --threads {threads} --input npz={input.npz:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule dimensionality_reduction_plot:
    input:
        data=res("dimensionality_reduction/{fig}.npz"),
    output:
        pdf=res("figures/{fig}.pdf"),
        png=res("figures/{fig}.png"),
    log:
        res("logs/dimensionality_reduction_plot/{fig}.log"),
    benchmark:
        res("benchmarks/dimensionality_reduction_plot/{fig}.tsv")
    wildcard_constraints:
        fig="|".join(DIMENSIONALITY_REDUCTION_FIGURES),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        json=lambda w: as_json(config["dimensionality_reduction"][w.fig]),
    shell:
        "python -m mlreview {wildcards.fig}-plot --input data={input.data:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"
