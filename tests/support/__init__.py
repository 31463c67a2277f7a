"""Channel-neutral test helpers: local servers for fakes and for Kanal itself, a health recorder,
waiting for a condition, test paths."""
