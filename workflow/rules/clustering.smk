# Section XIII: clustering - K-means (Fig 55), single-linkage clustering (Fig 56), DBSCAN
# (Fig 57) and a Gaussian mixture fitted by EM to PC1 of the Ising states (Fig 58).

#: figure -> the step computing it (on synthetic data); each is drawn by "<fig>-plot"
CLUSTERING_STEPS = {"fig55": "kmeans", "fig56": "hierarchical", "fig57": "dbscan"}
#: every figure of this section
CLUSTERING_FIGURES = [*CLUSTERING_STEPS, "fig58"]


rule clustering_fit:
    output:
        data=res("clustering/{fig}.npz"),
        metrics=res("metrics/{fig}.json"),
    log:
        res("logs/clustering_fit/{fig}.log"),
    benchmark:
        res("benchmarks/clustering_fit/{fig}.tsv")
    wildcard_constraints:
        fig="|".join(CLUSTERING_STEPS),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        step=lambda w: CLUSTERING_STEPS[w.fig],
        json=lambda w: as_json(compute_params(config["clustering"][w.fig])),
    shell:
        "python -m mlreview {params.step}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ising_gmm_fit:
    input:
        pca=rules.ising_pca.output.data,
    output:
        data=res("clustering/fig58.npz"),
        metrics=res("metrics/fig58.json"),
    log:
        res("logs/ising_gmm_fit/fig58.log"),
    benchmark:
        res("benchmarks/ising_gmm_fit/fig58.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        json=as_json(compute_params(config["clustering"]["fig58"])),
    shell:
        "python -m mlreview ising-gmm --input pca={input.pca:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule clustering_plot:
    input:
        data=res("clustering/{fig}.npz"),
    output:
        pdf=res("figures/{fig}.pdf"),
        png=res("figures/{fig}.png"),
    log:
        res("logs/clustering_plot/{fig}.log"),
    benchmark:
        res("benchmarks/clustering_plot/{fig}.tsv")
    wildcard_constraints:
        fig="|".join(CLUSTERING_FIGURES),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=lambda w: as_json(config["clustering"][w.fig]),
    shell:
        "python -m mlreview {wildcards.fig}-plot --input data={input.data:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"
