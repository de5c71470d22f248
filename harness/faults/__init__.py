"""Fault injection for the deploy tool: every AWS call can fail, lose its reply or
be the last one before the process dies (`inject`), and the matrix of cases with
the invariants that must hold after each (`cases`)."""
