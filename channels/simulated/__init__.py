"""Sample reports for `main.py simulate` and benchmarks; no platform behind them."""
