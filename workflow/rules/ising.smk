# Ising data sets (spec 2.1, 2.2): 2D Monte Carlo per temperature, the assembled data set, its
# validation against exact results, Fig 20, and the random 1D chains.
# Code: mlreview.ising (Monte Carlo, exact results, figures) and mlreview.data.ising (the data set).

ISING_T = [f"{t:.2f}" for t in config["ising"]["sampling"]["temperatures"]]
#: the one assembled 2D data set every Ising figure reads
ISING2D = res("ising/ising2d.npz")


rule ising2d_sample:
    """2D Ising states at one temperature: checkerboard Metropolis + Wolff, spaced by tau_int."""
    output:
        data=res("ising/ising2d_T{temp}.npz"),
        metrics=res("metrics/ising2d_T{temp}.json"),
    wildcard_constraints:
        temp=r"[0-9]+\.[0-9]{2}",
    # a data set that many figures need: started before any grid cell or plot (the DAG's
    # critical path); the default priority of every other rule is 0
    priority: 50
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        json=lambda w: as_json(
            {**config["ising"]["sampling"], "temperature": float(w.temp)}
        ),
    shell:
        STEP


rule ising2d_assemble:
    """The 2D Ising data set: every temperature's states with labels and phases."""
    input:
        temperatures=expand(res("ising/ising2d_T{temp}.npz"), temp=ISING_T),
    output:
        dataset=ISING2D,
        metrics=res("metrics/ising2d.json"),
    # a data set that many figures need: started before any grid cell or plot (the DAG's
    # critical path); the default priority of every other rule is 0
    priority: 50
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        json=as_json(
            {
                "temperatures": config["ising"]["sampling"]["temperatures"],
                "J": config["ising"]["sampling"]["J"],
                "critical_range": config["ising"]["critical_range"],
            }
        ),
    shell:
        STEP


rule ising2d_validate:
    """The 2D data against exact results (energy, Onsager, signs, spacing)."""
    input:
        temperatures=expand(res("ising/ising2d_T{temp}.npz"), temp=ISING_T),
        records=expand(res("metrics/ising2d_T{temp}.json"), temp=ISING_T),
    output:
        data=res("ising/validation.npz"),
        metrics=res("metrics/ising_validation.json"),
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        json=as_json(
            {
                "J": config["ising"]["sampling"]["J"],
                "validation": config["ising"]["validation"],
            }
        ),
    shell:
        STEP


rule ising_validation_plot:
    """Project figure ising_validation: the data against the exact observables."""
    input:
        data=rules.ising2d_validate.output.data,
    output:
        pdf=res("figures/ising_validation.pdf"),
        png=figure_png("ising_validation"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(config["ising"]["validation"]),
    shell:
        STEP


rule fig20_select:
    """Fig 20: typical ordered, critical and disordered states."""
    input:
        dataset=ISING2D,
    output:
        data=res("ising/fig20.npz"),
        metrics=res("metrics/fig20.json"),
    resources:
        mem_mb=4000,
        runtime=5,
    params:
        json=as_json(compute_params(config["ising"]["fig20"])),
    shell:
        STEP


rule fig20_plot:
    """Fig 20: the three states."""
    input:
        data=rules.fig20_select.output.data,
    output:
        pdf=res("figures/fig20.pdf"),
        png=figure_png("fig20"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(config["ising"]["fig20"]),
    shell:
        STEP


rule ising1d_chains:
    """The 1D Ising data: random +-1 chains and their energies (Figs 16, 17)."""
    output:
        data=res("ising/ising1d.npz"),
        metrics=res("metrics/ising1d.json"),
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        json=as_json(config["ising1d"]),
    shell:
        STEP
