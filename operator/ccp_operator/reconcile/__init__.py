"""Reconcilers: the logic behind the kopf handlers, independent of kopf itself."""
