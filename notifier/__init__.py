"""Staff notifications: the supervisors' daily digest and escalation / channel-health alerts.

Entry point: `notifier.service.Notifier` (built by runtime.build_runtime, run by its scheduler
through `tick()`). Figures come from store/stats.py; layout from notifier/templates/ (one template
per message and format), words from the text catalog's "notifier" texts (texts/<locale>.toml).
"""
