"""SP4N-LAPOR!, the national complaints platform: its exports read in as historical tickets and
Kanal's tickets written out in its columns."""
