"""The text catalog: every word a person reads, one TOML file per language, and locale formats."""
