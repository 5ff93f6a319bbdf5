"""Networks: plain nn.Modules (no Lightning)."""
