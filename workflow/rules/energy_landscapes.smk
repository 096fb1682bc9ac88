# Beyond the review, part 2: associative memory and glassy landscapes - Hopfield capacity,
# basins and retrieval at finite temperature, digits stored as patterns; simulated annealing of
# the Sherrington-Kirkpatrick spin glass and the Arrhenius law of Ising reversals; block-spin
# renormalisation of the 2D Ising data. Each figure is checked against a known result.
# Code: mlreview.sections.energy_landscapes (the numba kernels reuse mlreview.ising.kernels).

LANDSCAPES = config["energy_landscapes"]


rule hopfield_capacity_fit:
    """Project figure hopfield_capacity: the retrieval overlap against the load alpha = p/N."""
    output:
        data=res("energy_landscapes/hopfield_capacity.npz"),
        metrics=res("metrics/hopfield_capacity.json"),
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        json=as_json(LANDSCAPES["hopfield_capacity"]),
    shell:
        STEP


rule hopfield_basins_fit:
    """Project figure hopfield_capacity: recall against the fraction of flipped bits in the cue."""
    output:
        data=res("energy_landscapes/hopfield_basins.npz"),
        metrics=res("metrics/hopfield_basins.json"),
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        json=as_json(LANDSCAPES["hopfield_basins"]),
    shell:
        STEP


rule hopfield_temperature_fit:
    """Project figure hopfield_temperature: retrieval and the mixture state under Glauber dynamics."""
    output:
        data=res("energy_landscapes/hopfield_temperature.npz"),
        metrics=res("metrics/hopfield_temperature.json"),
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        json=as_json(LANDSCAPES["hopfield_temperature"]),
    shell:
        STEP


rule hopfield_digits_fit:
    """Project figure hopfield_digits: binarised MNIST digits stored and recalled."""
    input:
        mnist=MNIST,
    output:
        data=res("energy_landscapes/hopfield_digits.npz"),
        metrics=res("metrics/hopfield_digits.json"),
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        json=as_json(LANDSCAPES["hopfield_digits"]),
    shell:
        STEP


rule annealing_fit:
    """Project figure annealing: simulated annealing, greedy quenches and restarts on SK."""
    output:
        data=res("energy_landscapes/annealing.npz"),
        metrics=res("metrics/annealing.json"),
    resources:
        mem_mb=1000,
        runtime=20,
    params:
        json=as_json(LANDSCAPES["annealing"]),
    shell:
        STEP


rule arrhenius_fit:
    """Project figure annealing: mean time between magnetisation reversals of a small torus."""
    output:
        data=res("energy_landscapes/arrhenius.npz"),
        metrics=res("metrics/arrhenius.json"),
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        json=as_json(LANDSCAPES["arrhenius"]),
    shell:
        STEP


rule ising_rg_fit:
    """Project figure ising_rg: majority-rule blocking of the Ising states, step by step."""
    input:
        ising=ISING2D,
    output:
        data=res("energy_landscapes/ising_rg.npz"),
        metrics=res("metrics/ising_rg.json"),
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        json=as_json(LANDSCAPES["ising_rg"]),
    shell:
        STEP


rule hopfield_capacity_plot:
    """Project figure hopfield_capacity: overlap against alpha per N, and the basins."""
    input:
        data=rules.hopfield_capacity_fit.output.data,
        basins=rules.hopfield_basins_fit.output.data,
    output:
        pdf=res("figures/hopfield_capacity.pdf"),
        png=figure_png("hopfield_capacity"),
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        STEP


rule hopfield_temperature_plot:
    """Project figure hopfield_temperature: overlaps against T with mean-field theory."""
    input:
        data=rules.hopfield_temperature_fit.output.data,
    output:
        pdf=res("figures/hopfield_temperature.pdf"),
        png=figure_png("hopfield_temperature"),
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        STEP


rule hopfield_digits_plot:
    """Project figure hopfield_digits: recalled digits and the capacity of digits vs random."""
    input:
        data=rules.hopfield_digits_fit.output.data,
    output:
        pdf=res("figures/hopfield_digits.pdf"),
        png=figure_png("hopfield_digits"),
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        STEP


rule annealing_plot:
    """Project figure annealing: energy per spin against annealing length, and Arrhenius."""
    input:
        data=rules.annealing_fit.output.data,
        arrhenius=rules.arrhenius_fit.output.data,
    output:
        pdf=res("figures/annealing.pdf"),
        png=figure_png("annealing"),
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        STEP


rule ising_rg_plot:
    """Project figure ising_rg: RG flows of |m|, the nn correlation and the Binder cumulant."""
    input:
        data=rules.ising_rg_fit.output.data,
    output:
        pdf=res("figures/ising_rg.pdf"),
        png=figure_png("ising_rg"),
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        STEP
