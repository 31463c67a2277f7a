"""Channel-neutral test helpers: local servers for fakes, waiting for a condition, test paths."""
