"""The closed-loop simulation: a year of forecast -> plan -> patrol -> crime -> record on a synthetic city,
per patrol policy on the same seeds, to show whether the patrols lock onto places whatever the true crime."""
