"""Modal and main screens of the TUI."""
