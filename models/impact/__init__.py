"""Impact: the effect of being assigned a mission on crime, estimated from the plans' own randomization.

estimator (inverse-probability weighting with the recorded inclusion probabilities, design-based
intervals) -> outcomes (plan candidates and crime counts from the warehouse; MLflow and audit) -> proof
(a synthetic city whose true deterrence is known, closed loop, many seeds).
"""
