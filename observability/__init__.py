"""What a team running Kanal watches: Prometheus metrics, one-line JSON logs, request ids."""
