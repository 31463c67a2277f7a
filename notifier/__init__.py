"""Staff notifications: the supervisors' daily digest and escalation / channel-health alerts.

Entry point: `notifier.service.Notifier` (built by runtime.build_runtime, run by its scheduler
through `tick()`). Figures come from store/stats.py; texts from notifier/templates/<locale>/.
"""
