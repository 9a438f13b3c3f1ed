"""reelflow's benchmarks: run as modules (``python -m bench.render``), never imported by the product."""
