"""The dashboards' pages: their titles, sections and icons, and which show field operations. Who may open
each is in auth.PAGE_ROLES."""

# Pages that show field operations (plans, patrols, dosage, impact): a banner says when they are simulated.
# The commander's summary is not one: it warns of its own week only, when that week was simulated.
OPERATIONS_PAGES = {"missions", "briefings", "shift_report", "tactic_report", "officer_report",
                    "crime_type_report", "crime_dosage", "exposure"}
SIMULATED = ("**Simulated operations.** The patrols, vehicle locations and activity logs on this page are "
             "simulated by the demo (no public source has them): they show how beatwise works, not what any "
             "police unit did.")

# Page file stem -> (section, title, icon). The roles for each are in auth.PAGE_ROLES.
PAGES = {
    "missions": ("Shift", "Missions", ":material/flag:"),
    "risk_map": ("Shift", "Risk map", ":material/map:"),
    "briefings": ("Shift", "Briefings", ":material/description:"),
    "shift_report": ("Reports", "Shift report", ":material/schedule:"),
    "tactic_report": ("Reports", "Tactic report", ":material/directions_walk:"),
    "officer_report": ("Reports", "Officer report", ":material/badge:"),
    "crime_type_report": ("Reports", "Crime type report", ":material/category:"),
    "crime_dosage": ("Reports", "Crime & dosage", ":material/insights:"),
    "commander_summary": ("Reports", "Commander's summary", ":material/summarize:"),
    "model_performance": ("Oversight", "Model performance", ":material/monitoring:"),
    "exposure": ("Oversight", "Exposure and fairness", ":material/balance:"),
    "audit_log": ("Oversight", "Audit log", ":material/verified:"),
    "data_health": ("Oversight", "Data health", ":material/health_and_safety:"),
}
