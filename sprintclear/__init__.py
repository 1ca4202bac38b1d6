"""sprintclear: return-to-sprint clearance after hamstring or calf muscle injury.

The package holds the command line (``sprintclear.cli``), the composition
root above the layers ``rules → engine → reports → api``.
"""
