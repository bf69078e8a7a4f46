"""PartnerPulse benchmarks: ``python -m benchmarks [latency|fanout|all]`` (see benchmarks/README.md)."""
