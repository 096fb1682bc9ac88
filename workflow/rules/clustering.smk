# Section XIII: clustering - K-means (Fig 55), single-linkage clustering (Fig 56), DBSCAN
# (Fig 57) and a Gaussian mixture fitted by EM to PC1 of the Ising states (Fig 58).
# Code: mlreview.sections.clustering (EM: mlreview.em).

CLUSTERING = config["clustering"]


rule kmeans_fit:
    """Fig 55: K-means on three blobs, the means and the objective at every iteration."""
    output:
        data=res("clustering/fig55.npz"),
        metrics=res("metrics/fig55.json"),
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        json=as_json(compute_params(CLUSTERING["fig55"])),
    shell:
        STEP


rule hierarchical_fit:
    """Fig 56: single-linkage clustering of five points."""
    output:
        data=res("clustering/fig56.npz"),
        metrics=res("metrics/fig56.json"),
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        json=as_json(compute_params(CLUSTERING["fig56"])),
    shell:
        STEP


rule dbscan_fit:
    """Fig 57: DBSCAN on an illustration and on two noisy moons with outliers."""
    output:
        data=res("clustering/fig57.npz"),
        metrics=res("metrics/fig57.json"),
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        json=as_json(compute_params(CLUSTERING["fig57"])),
    shell:
        STEP


rule ising_gmm_fit:
    """Fig 58: a three-component Gaussian mixture fitted by EM to the Ising PC1."""
    input:
        pca=res("dimensionality_reduction/fig51.npz"),
    output:
        data=res("clustering/fig58.npz"),
        metrics=res("metrics/fig58.json"),
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        json=as_json(compute_params(CLUSTERING["fig58"])),
    shell:
        STEP


rule fig55_plot:
    """Fig 55: the means at every iteration and the objective."""
    input:
        data=rules.kmeans_fit.output.data,
    output:
        pdf=res("figures/fig55.pdf"),
        png=figure_png("fig55"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(CLUSTERING["fig55"]),
    shell:
        STEP


rule fig56_plot:
    """Fig 56: the points with their merges and the dendrogram."""
    input:
        data=rules.hierarchical_fit.output.data,
    output:
        pdf=res("figures/fig56.pdf"),
        png=figure_png("fig56"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(CLUSTERING["fig56"]),
    shell:
        STEP


rule fig57_plot:
    """Fig 57: DBSCAN clusters and noise."""
    input:
        data=rules.dbscan_fit.output.data,
    output:
        pdf=res("figures/fig57.pdf"),
        png=figure_png("fig57"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(CLUSTERING["fig57"]),
    shell:
        STEP


rule fig58_plot:
    """Fig 58: the mixture over the PC1 histogram and the responsibilities against T."""
    input:
        data=rules.ising_gmm_fit.output.data,
    output:
        pdf=res("figures/fig58.pdf"),
        png=figure_png("fig58"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(CLUSTERING["fig58"]),
    shell:
        STEP
