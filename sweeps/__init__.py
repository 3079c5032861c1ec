"""orgscale sweeps: declarative sweep specs, a parallel resumable runner, Parquet results, fits."""
