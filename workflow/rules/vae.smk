# Section XVII: variational autoencoders. MNIST (Figs 75, 76) and the Ising states (Figs 77,
# 78): one fit per data set serves both of its figures. Project figures: the training curves,
# and the held-out log-likelihood by importance sampling with its check on a linear-Gaussian
# VAE, whose log-likelihood is exact (probabilistic PCA).
# Code: mlreview.sections.vae (the networks: mlreview.nn.vae).

VAE = config["vae"]


rule vae_mnist_fit:
    """Figs 75, 76: the MNIST VAE 784-256-2, its latent plane and decoded grids."""
    input:
        npz=MNIST,
        classifier=res("logistic/fig27.npz"),
    output:
        data=res("vae/mnist.npz"),
        metrics=res("metrics/vae_mnist.json"),
    resources:
        mem_mb=3000,
        runtime=60,
        gpu=0,
    params:
        json=as_json(compute_params(VAE["mnist"])),
    shell:
        STEP


rule vae_ising_fit:
    """Figs 77, 78: the Ising VAE, its latent plane and decoded configurations."""
    input:
        dataset=ISING2D,
    output:
        data=res("vae/ising.npz"),
        metrics=res("metrics/vae_ising.json"),
    resources:
        mem_mb=6000,
        runtime=90,
        gpu=0,
    params:
        json=as_json(compute_params(VAE["ising"])),
    shell:
        STEP


rule vae_ppca_check:
    """Project figure vae_likelihood: the importance-sampled likelihood against the exact one."""
    output:
        data=res("vae/ppca.npz"),
        metrics=res("metrics/vae_ppca.json"),
    resources:
        mem_mb=1000,
        runtime=10,
        gpu=0,
    params:
        json=as_json(VAE["ppca"]),
    shell:
        STEP


rule fig75_plot:
    """Fig 75: the MNIST test set in the latent plane."""
    input:
        mnist=rules.vae_mnist_fit.output.data,
    output:
        pdf=res("figures/fig75.pdf"),
        png=figure_png("fig75"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json({"plot": VAE["mnist"]["plot"]}),
    shell:
        STEP


rule fig76_plot:
    """Fig 76: fantasy digits on the uniform and the inverse-CDF latent grids."""
    input:
        mnist=rules.vae_mnist_fit.output.data,
    output:
        pdf=res("figures/fig76.pdf"),
        png=figure_png("fig76"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json({"plot": VAE["mnist"]["plot"]}),
    shell:
        STEP


rule fig77_plot:
    """Fig 77: the Ising states in the latent plane, each coordinate against m."""
    input:
        ising=rules.vae_ising_fit.output.data,
    output:
        pdf=res("figures/fig77.pdf"),
        png=figure_png("fig77"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json({"plot": VAE["ising"]["plot"]}),
    shell:
        STEP


rule fig78_plot:
    """Fig 78: Ising fantasy configurations on the inverse-CDF grid."""
    input:
        ising=rules.vae_ising_fit.output.data,
    output:
        pdf=res("figures/fig78.pdf"),
        png=figure_png("fig78"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json({"plot": VAE["ising"]["plot"]}),
    shell:
        STEP


rule vae_training_plot:
    """Project figure vae_training: training and held-out negative ELBO per epoch."""
    input:
        mnist=rules.vae_mnist_fit.output.data,
        ising=rules.vae_ising_fit.output.data,
    output:
        pdf=res("figures/vae_training.pdf"),
        png=figure_png("vae_training"),
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        STEP


rule vae_likelihood_plot:
    """Project figure vae_likelihood: held-out log-likelihood against K, and the PPCA check."""
    input:
        mnist=rules.vae_mnist_fit.output.data,
        ising=rules.vae_ising_fit.output.data,
        ppca=rules.vae_ppca_check.output.data,
    output:
        pdf=res("figures/vae_likelihood.pdf"),
        png=figure_png("vae_likelihood"),
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        STEP
