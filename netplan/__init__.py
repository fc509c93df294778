"""netplan: plan tiered service networks with exact optimisation."""

__version__ = "0.1.0"
