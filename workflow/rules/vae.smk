# Section XVII: variational autoencoders. MNIST (Figs 75, 76) and the Ising states (Figs 77,
# 78): one fit per data set serves both of its figures. Project figures: the training curves,
# and the held-out log-likelihood by importance sampling with its check on a linear-Gaussian
# VAE, whose log-likelihood is exact (probabilistic PCA).

#: figure -> {input name: file}: the fits it is drawn from (by the step "<figure>-plot")
VAE_PLOT_INPUTS = {
    "fig75": {"mnist": res("vae/mnist.npz")},
    "fig76": {"mnist": res("vae/mnist.npz")},
    "fig77": {"ising": res("vae/ising.npz")},
    "fig78": {"ising": res("vae/ising.npz")},
    "vae_training": {"mnist": res("vae/mnist.npz"), "ising": res("vae/ising.npz")},
    "vae_likelihood": {
        "mnist": res("vae/mnist.npz"),
        "ising": res("vae/ising.npz"),
        "ppca": res("vae/ppca.npz"),
    },
}


rule vae_mnist_fit:
    input:
        npz=rules.mnist_prepare.output.npz,
        classifier=rules.mnist_softmax_fit.output.data,
    output:
        data=res("vae/mnist.npz"),
        metrics=res("metrics/vae_mnist.json"),
    log:
        res("logs/vae_mnist_fit/vae_mnist.log"),
    benchmark:
        res("benchmarks/vae_mnist_fit/vae_mnist.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
        gpu=0,
    params:
        json=as_json(compute_params(config["vae"]["mnist"])),
    shell:
        "python -m mlreview vae-mnist --threads {threads}"
        " --input npz={input.npz:q} classifier={input.classifier:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule vae_ising_fit:
    input:
        dataset=rules.ising2d_assemble.output.dataset,
    output:
        data=res("vae/ising.npz"),
        metrics=res("metrics/vae_ising.json"),
    log:
        res("logs/vae_ising_fit/vae_ising.log"),
    benchmark:
        res("benchmarks/vae_ising_fit/vae_ising.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=6000,
        runtime=90,
        gpu=0,
    params:
        json=as_json(compute_params(config["vae"]["ising"])),
    shell:
        "python -m mlreview vae-ising --threads {threads} --input dataset={input.dataset:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule vae_ppca_check:
    output:
        data=res("vae/ppca.npz"),
        metrics=res("metrics/vae_ppca.json"),
    log:
        res("logs/vae_ppca_check/vae_ppca.log"),
    benchmark:
        res("benchmarks/vae_ppca_check/vae_ppca.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
        gpu=0,
    params:
        json=as_json(config["vae"]["ppca"]),
    shell:
        "python -m mlreview vae-ppca --threads {threads}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule vae_plot:
    input:
        unpack(lambda w: VAE_PLOT_INPUTS[w.plot]),
    output:
        pdf=res("figures/{plot}.pdf"),
        png=res("figures/{plot}.png"),
    log:
        res("logs/vae_plot/{plot}.log"),
    benchmark:
        res("benchmarks/vae_plot/{plot}.tsv")
    wildcard_constraints:
        plot="|".join(VAE_PLOT_INPUTS),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        step=lambda w: w.plot.replace("_", "-"),
        inputs=lambda w, input: cli_named(input),
        json=lambda w: as_json(vae_plot_params(w.plot)),
    shell:
        "python -m mlreview {params.step}-plot --input {params.inputs}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"
