"""Data sets: one loader per data set, used by every section (no section decodes files itself)."""
