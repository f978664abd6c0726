"""Shared test set-up. Being here puts tests/ on sys.path, so any test can `import helpers`."""
